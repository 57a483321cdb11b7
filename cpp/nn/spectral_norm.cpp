#include "spectral_norm.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "../tensor/kernels.hpp"

namespace cgan::nn {

namespace {
// v / max(||v||, eps), raw (no graph).
Tensor normalized(const Tensor& v, double eps) {
  double n = std::sqrt(kernels::sum_squares(v));
  double s = 1.0 / std::max(n, eps);
  return kernels::map(v, [s](auto a) { return decltype(a)(a * s); });
}
// The weight as a matrix (shape[0], rest).
Shape matrix_shape(const Var& w) { return {w.shape()[0], w.numel() / w.shape()[0]}; }
}  // namespace

SpectralNorm::SpectralNorm(ModulePtr inner, int iters, Rng& rng, double eps)
    : inner_(std::move(inner)), iters_(iters), eps_(eps) {
  weighted_ = dynamic_cast<Weighted*>(inner_.get());
  if (!weighted_)
    throw ValueError("SpectralNorm: wraps a Linear, Conv2d or ConvTranspose2d, got " +
                     (inner_ ? inner_->type_name() : std::string("None")));
  if (iters < 1) throw ValueError("SpectralNorm: power_iterations must be >= 1, got " + std::to_string(iters));
  const Var& w = weighted_->weight();
  u_ = Var(normalized(rng.normal({w.shape()[0]}, w.dtype()), eps_));
}

Tensor SpectralNorm::power_iteration(bool update) {
  const Var& wv = weighted_->weight();
  Shape ms = matrix_shape(wv);
  Tensor w = wv.data().reshape(ms);
  Tensor u = u_.data().dtype() == w.dtype() ? u_.data() : u_.data().to(w.dtype());
  Tensor v;
  for (int i = 0; i < (update ? iters_ : 1); ++i) {
    v = normalized(kernels::matmul(u.reshape({1, ms[0]}), w, false, false).reshape({ms[1]}), eps_);
    if (update) u = normalized(kernels::matmul(w, v.reshape({ms[1], 1}), false, false).reshape({ms[0]}), eps_);
  }
  if (update) u_.mutable_data().copy_from(u);
  return v;
}

double SpectralNorm::sigma() const {
  NoGradGuard no_grad;
  return const_cast<SpectralNorm*>(this)->normalized_sigma(false).data().item();
}

Var SpectralNorm::normalized_sigma(bool update) {
  Tensor v = power_iteration(update);
  const Var& w = weighted_->weight();
  Shape ms = matrix_shape(w);
  // sigma = u^T W v with u, v constants: differentiable in W only.
  Var wv = ops::matmul(ops::reshape(w, ms), ops::constant(v.reshape({ms[1], 1})));
  return ops::sum(ops::mul(wv, ops::constant(u_.data().reshape({ms[0], 1}))));
}

Var SpectralNorm::normalized_weight() {
  return ops::div(weighted_->weight(), normalized_sigma(updates_running_state()));
}

Var SpectralNorm::forward(const Var& x) {
  return weighted_->forward_with_weight(x, normalized_weight());
}

Config SpectralNorm::config() const {
  Config c;
  c.set("type", "SpectralNorm");
  c.set("power_iterations", iters_);
  c.set("module", inner_->config());
  return c;
}

}  // namespace cgan::nn

