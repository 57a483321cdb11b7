// Training-loop techniques from the lecture's "tips for improving GAN" that keep state
// beside the networks: generator weight averaging (EMA), historical averaging and
// learning-rate schedules. Each is plain arithmetic on parameter values outside the
// graph; the loop (gan.cpp) decides when to call it.
#pragma once
#include <string>
#include <vector>

#include "../autograd/variable.hpp"

namespace cgan::gan {

// One tensor per parameter plus how many parameter values went into them.
struct ParamAverage {
  std::vector<Tensor> values;
  int64_t count = 0;

  // Starts as a copy of the parameters' current values (count 1).
  static ParamAverage of(const std::vector<Var>& params);
  bool empty() const { return values.empty(); }
  ParamAverage clone() const;
  // Copies `src`'s values into this one's tensors (same shapes) and its count.
  void assign(const ParamAverage& src);

  // Exponential moving average (Yazici et al. 2019): avg = decay*avg + (1-decay)*theta,
  // computed in float64 and rounded once to the parameter's dtype.
  void ema_update(const std::vector<Var>& params, double decay);
  // Running mean of every value the parameters have had: count += 1,
  // mean += (theta - mean) / count (float64, rounded once).
  void mean_update(const std::vector<Var>& params);
  // Historical averaging (Salimans et al. 2016): adds the gradient of
  // lambda * ||theta - mean||^2, i.e. 2*lambda*(theta - mean), to each parameter's .grad
  // and returns the term's value. Parameters without a .grad (frozen) are left alone.
  double add_penalty_grad(const std::vector<Var>& params, double lambda) const;
};

// Copies `avg` into the parameters for a scope and puts their own values back after:
// sampling with averaged weights uses the very same modules (buffers stay G's own).
class SwappedParams {
 public:
  SwappedParams(const std::vector<Var>& params, const ParamAverage& avg);
  ~SwappedParams();
  SwappedParams(const SwappedParams&) = delete;
  SwappedParams& operator=(const SwappedParams&) = delete;

 private:
  std::vector<Var> params_;
  std::vector<Tensor> saved_;
};

// The learning rate of iteration t (0-based, = iterations completed), as the
// corresponding torch.optim.lr_scheduler stepped once per iteration would set it:
//   constant  base
//   linear    base * (1 + (end_factor - 1) * min(t, total) / total)      LinearLR(1, end_factor, total)
//   step      base * gamma^floor(t / step_size)                          StepLR(step_size, gamma)
//   cosine    eta_min + (base - eta_min) * (1 + cos(pi t / total)) / 2,  CosineAnnealingLR(total, eta_min)
//             eta_min once t >= total (torch would start a new half-period)
struct LrSchedule {
  std::string kind;  // "" = none: the optimizer's lr is left alone
  double base_lr = 0;
  int64_t total_steps = 0, step_size = 0;
  double gamma = 0.1, end_factor = 0, eta_min = 0;

  bool active() const { return !kind.empty(); }
  // ValueError naming the field for an unknown kind (closest name) or a bad value.
  void validate(const std::string& who) const;
  double lr(int64_t t) const;
};

}  // namespace cgan::gan
