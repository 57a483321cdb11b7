// R1 / R2 (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually
// Converge?", Eq. 9-10) and the consistency term (Wei et al. 2018, "Improving the Improved
// Training of Wasserstein GANs", Eq. 4), as a decorator around any objective.
#include "regularizers.hpp"

#include <algorithm>
#include <cmath>

#include "../autograd/engine.hpp"
#include "../nn/activation.hpp"
#include "../ops/ops.hpp"
#include "../tensor/errors.hpp"
#include "objectives.hpp"

namespace cgan::gan {

using namespace cgan::ops;

const std::vector<std::string>& common_option_keys() {
  static const std::vector<std::string> keys = {"r1", "r2", "consistency", "ct_margin"};
  return keys;
}

std::string closest_name(const std::string& word, const std::vector<std::string>& names) {
  auto distance = [&](const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (word[i - 1] != b[j - 1])});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best = names.at(0);
  for (auto& n : names)
    if (distance(n) < distance(best)) best = n;
  return best;
}

Regularization take_common_options(const std::string& objective, ObjectiveOptions& o) {
  Regularization r;
  auto take = [&](const std::string& key, double& into, bool non_negative) {
    if (o.str.count(key))
      throw ValueError(objective + ": option '" + key + "' must be a number, got '" + o.str.at(key) + "'");
    auto it = o.num.find(key);
    if (it == o.num.end()) return false;
    if (o.flags.count(key)) throw ValueError(objective + ": option '" + key + "' must be a number, got a bool");
    double v = it->second;
    if (!std::isfinite(v) || (non_negative && v < 0))
      throw ValueError(objective + ": option '" + key + "' must be a finite number" +
                       (non_negative ? " >= 0" : "") + ", got " + std::to_string(v));
    into = v;
    o.num.erase(it);
    return true;
  };
  take("r1", r.r1, true);
  take("r2", r.r2, true);
  take("consistency", r.consistency, true);
  if (take("ct_margin", r.ct_margin, false) && !(r.consistency > 0))
    throw ValueError(objective + ": option 'ct_margin' (M' of the consistency term) needs consistency > 0");
  return r;
}

Var zero_centred_penalty(const Objective& obj, nn::Module& D, const Tensor& x) {
  Var at(x, /*requires_grad=*/true);
  nn::FreezeRunningState frozen;  // an extra look at D, as in gradient_penalty
  Var s = obj.score(D, at);
  Var g = grad({s}, {at}, {ones_like(s)}, /*create_graph=*/true)[0];
  return mean(sum(square(flatten_rows(g)), 1));
}

namespace {

bool has_active_dropout(const nn::Module& m) {
  if (auto* d = dynamic_cast<const nn::Dropout*>(&m)) return d->training() && d->p() > 0;
  for (auto& [name, child] : m.children())
    if (child && has_active_dropout(*child)) return true;
  return false;
}

// Per-sample Euclidean distance of two batches of any per-sample shape, (N, 1).
Var distance(const Var& a, const Var& b) { return row_norm(flatten_rows(sub(a, b))); }

}  // namespace

Var consistency_term(nn::Module& D, const Var& x, double margin, Rng& rng) {
  if (!has_active_dropout(D))
    throw ValueError("consistency: D has no Dropout layer with p > 0 in train mode, so its two "
                     "forwards agree and the term is 0; add cgan.nn.Dropout to D (Wei et al. use "
                     "p = 0.5 after each hidden layer)");
  nn::ForwardRngScope dropout_rng(&rng);  // the two dropout masks come from the GAN's rng
  nn::FreezeRunningState frozen;
  Var xc = x.detach();
  auto* seq = dynamic_cast<nn::Sequential*>(&D);
  Var term;
  if (seq && seq->layers().size() >= 2) {
    size_t last = seq->layers().size() - 1;
    Var h1 = seq->forward_until(xc, last), h2 = seq->forward_until(xc, last);
    Var out1 = seq->forward_range(h1, last, last + 1), out2 = seq->forward_range(h2, last, last + 1);
    term = add(distance(out1, out2), mul(distance(h1, h2), 0.1));
  } else {
    term = distance(D.forward(xc), D.forward(xc));
  }
  return mean(relu(sub(term, margin)));
}

namespace {

class Regularized : public Objective {
 public:
  Regularized(std::shared_ptr<Objective> inner, const Regularization& r) : inner_(std::move(inner)), r_(r) {}
  std::string name() const override { return inner_->name(); }

  // penalty: the sum of the unweighted penalties (inner's, R1, R2, consistency).
  DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const override {
    DLoss out = inner_->d_loss(D, real, fake, rng);
    double penalty = std::isnan(out.penalty) ? 0.0 : out.penalty;
    auto add_term = [&](const Var& term, double weight) {
      out.loss = add(out.loss, mul(term, weight));
      penalty += term.data().item();
    };
    if (r_.r1 > 0) add_term(zero_centred_penalty(*inner_, D, real.detach().data()), 0.5 * r_.r1);
    if (r_.r2 > 0) add_term(zero_centred_penalty(*inner_, D, fake.detach().data()), 0.5 * r_.r2);
    if (r_.consistency > 0) add_term(consistency_term(D, real, r_.ct_margin, rng), r_.consistency);
    out.penalty = penalty;
    return out;
  }
  Var g_loss(nn::Module& D, const Var& fake) const override { return inner_->g_loss(D, fake); }
  void after_d_step(nn::Module& D) const override { inner_->after_d_step(D); }
  Shape d_out_shape(const Shape& data) const override { return inner_->d_out_shape(data); }
  OptimizerDefaults default_optimizer(bool d) const override { return inner_->default_optimizer(d); }
  Var score(nn::Module& D, const Var& x) const override { return inner_->score(D, x); }

 private:
  std::shared_ptr<Objective> inner_;
  Regularization r_;
};

}  // namespace

std::shared_ptr<Objective> regularize(std::shared_ptr<Objective> inner, const Regularization& r) {
  if (!r.any()) return inner;
  return std::make_shared<Regularized>(std::move(inner), r);
}

std::shared_ptr<Objective> with_common_options(std::shared_ptr<Objective> inner, ObjectiveOptions o) {
  const std::string name = inner->name();
  Regularization r = take_common_options(name, o);
  std::vector<std::string> left;
  for (auto& [k, v] : o.num) left.push_back(k);
  for (auto& [k, v] : o.str) left.push_back(k);
  if (!left.empty()) {
    std::string accepted;
    for (auto& k : common_option_keys()) accepted += " " + k + " (number)";
    throw ValueError(name + ": unknown option '" + left[0] + "' (did you mean '" +
                     closest_name(left[0], common_option_keys()) + "'?); an objective object takes "
                     "only the options every objective accepts (its own settings belong in its "
                     "constructor); accepted:" + accepted);
  }
  return regularize(std::move(inner), r);
}

}  // namespace cgan::gan
