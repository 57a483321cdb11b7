// A GAN objective: the discriminator's loss on a real and a fake batch, the
// generator's loss on a fake batch, and what happens after a discriminator update.
// The training loop (gan.hpp) knows nothing else about objectives.
#pragma once
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../nn/module.hpp"
#include "../tensor/rng.hpp"

namespace cgan::gan {

// Keyword options of an objective, as given in Python (numbers and strings apart).
struct ObjectiveOptions {
  std::map<std::string, double> num;
  std::map<std::string, std::string> str;
  std::set<std::string> flags;  // keys of `num` given as True/False
  double get(const std::string& k, double dflt) const {
    auto it = num.find(k);
    return it == num.end() ? dflt : it->second;
  }
  std::string get(const std::string& k, const std::string& dflt) const {
    auto it = str.find(k);
    return it == str.end() ? dflt : it->second;
  }
};

struct DLoss {
  Var loss;  // what the discriminator minimises (a 0-d tensor)
  double penalty = std::numeric_limits<double>::quiet_NaN();     // gradient penalty, if any
  double divergence = std::numeric_limits<double>::quiet_NaN();  // critic's estimate, if any
};

// The optimizer an objective's paper uses when the caller gives none.
struct OptimizerDefaults {
  std::string type = "adam";  // "adam" | "rmsprop" | "sgd"
  double lr = 2e-4, beta1 = 0.5, beta2 = 0.999;
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  // real: a data batch; fake: G's samples detached from G. May draw from rng
  // (interpolation weights of a gradient penalty, perturbations of DRAGAN).
  virtual DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const = 0;
  // fake carries G's graph; the returned loss is what G minimises.
  virtual Var g_loss(nn::Module& D, const Var& fake) const = 0;
  // Constraint applied after every discriminator update (weight clipping for wgan).
  virtual void after_d_step(nn::Module& D) const {}
  // Per-sample shape of the discriminator's output for data of per-sample shape
  // `data` ((1,), or the data's own shape for an autoencoder discriminator).
  virtual Shape d_out_shape(const Shape& data) const { return {1}; }
  virtual OptimizerDefaults default_optimizer(bool discriminator) const { return {}; }
  // What D minimises when trained on real data alone, before any generator exists
  // (EBGAN's autoencoder: its reconstruction error); undefined when the objective has
  // no such loss.
  virtual Var pretrain_loss(nn::Module& D, const Var& real) const { return Var(); }
  // D's per-sample scalar that the losses judge, shape (N, 1): the raw output, or the
  // energy of an autoencoder D (ebgan). What R1 / R2 differentiate.
  virtual Var score(nn::Module& D, const Var& x) const { return D.forward(x); }
};

// Builds an objective by its canonical name or alias; ValueError for an unknown name
// or option (the message lists what is accepted). The options r1, r2, consistency and
// ct_margin (regularizers.hpp) are accepted by every objective.
std::shared_ptr<Objective> make_objective(const std::string& name, const ObjectiveOptions& opts);
// Canonical names, f-gan:<divergence> expanded for all ten divergences.
std::vector<std::string> available_objectives();

}  // namespace cgan::gan
