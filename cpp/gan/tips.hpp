// Training-loop techniques from the lecture's "tips for improving GAN" that keep state
// beside the networks: generator weight averaging (EMA) and historical averaging (the
// learning-rate schedules are in optim/schedule.hpp). Each is plain arithmetic on
// parameter values outside the graph; the loop (gan.cpp) decides when to call it.
#pragma once
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

  // Exponential moving average (Yazici et al. 2019): avg = d*avg + (1-d)*theta, computed
  // in float64 and rounded once to the parameter's dtype, with d = ema_decay(decay, n).
  void ema_update(const std::vector<Var>& params, double decay);
  // The decay of the (n+1)-th update: min(decay, (1 + n) / (10 + n)), TensorFlow's
  // warm-up. Without it a decay of 0.999 keeps the average near G's random initial
  // weights for thousands of steps; with it the first updates mostly take theta.
  static double ema_decay(double decay, int64_t updates_done);
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

}  // namespace cgan::gan
