// Internals shared by the objective implementations (objectives.cpp,
// gradient_penalty.cpp, energy_objectives.cpp) and the Python binding.
#pragma once
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "objective.hpp"

namespace cgan::gan {

// An objective whose losses depend on D only through its raw outputs v = D(x): the
// losses can then be evaluated (and differentiated) on given v directly.
class RawOutputObjective : public Objective {
 public:
  virtual Var d_loss_raw(const Var& v_real, const Var& v_fake) const = 0;
  virtual Var g_loss_raw(const Var& v_fake) const = 0;
  // What the discriminator's loss estimates (a divergence or a distance), NaN if nothing.
  virtual double divergence_raw(const Var& v_real, const Var& v_fake) const {
    return std::numeric_limits<double>::quiet_NaN();
  }
  DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const override;
  Var g_loss(nn::Module& D, const Var& fake) const override;
};

// ValueError unless every key of `o` is one of the accepted numeric / string keys, every
// number is finite, and only the flag keys (a subset of num_keys) are given as True/False.
void check_options(const std::string& objective, const ObjectiveOptions& o,
                   const std::vector<std::string>& num_keys,
                   const std::vector<std::string>& str_keys = {},
                   const std::vector<std::string>& flag_keys = {});

// (N, ...) -> (N, rest): per-sample rows for norms and distances.
Var flatten_rows(const Var& x);
// ValueError unless real and fake hold the same number of samples (pairing by row).
void check_same_batch(const std::string& objective, const Var& real, const Var& fake);

// mean over samples of (||grad_x D(x)||_2 - 1)^2, or of max(0, ||.|| - 1)^2 if one_sided.
// x is a constant batch; the penalty is differentiable w.r.t. D's parameters (double backward).
Var gradient_penalty(nn::Module& D, const Tensor& x, bool one_sided);
// x_hat = eps x_r + (1 - eps) x_f, one eps ~ U[0, 1) per sample (Gulrajani 2017, Alg. 1);
// a constant batch (no graph). real and fake must have the same shape.
Tensor interpolate(const Var& real, const Var& fake, Rng& rng);

// Factories of the objectives that need more than raw outputs.
std::unique_ptr<Objective> make_wgan_gp(const ObjectiveOptions& o);
std::unique_ptr<Objective> make_dragan(const ObjectiveOptions& o);
std::unique_ptr<Objective> make_ebgan(const ObjectiveOptions& o);
std::unique_ptr<Objective> make_loss_sensitive(const ObjectiveOptions& o);

}  // namespace cgan::gan
