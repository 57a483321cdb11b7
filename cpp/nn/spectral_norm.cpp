#include "spectral_norm.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "../tensor/kernels.hpp"

namespace cgan::nn {

namespace {
// v / max(||v||, eps), raw (no graph).
Tensor normalized(const Tensor& v, double eps) {
  double n = std::sqrt(kernels::sum_all(kernels::map(v, [](auto a) { return a * a; })).item());
  double s = 1.0 / std::max(n, eps);
  return kernels::map(v, [s](auto a) { return decltype(a)(a * s); });
}
}  // namespace

SpectralNorm::SpectralNorm(std::shared_ptr<Linear> inner, int iters, Rng& rng, double eps)
    : inner_(std::move(inner)), iters_(iters), eps_(eps) {
  if (!inner_) throw ValueError("SpectralNorm: needs a Linear module");
  if (iters < 1) throw ValueError("SpectralNorm: power_iterations must be >= 1");
  DType dt = inner_->weight().dtype();
  u_ = Var(normalized(rng.normal({inner_->out_features()}, dt), eps_));
}

Tensor SpectralNorm::power_iteration(bool update) {
  const Tensor& w = inner_->weight().data();  // (out, in)
  int64_t out = w.shape()[0], in = w.shape()[1];
  Tensor u = u_.data().dtype() == w.dtype() ? u_.data() : u_.data().to(w.dtype());
  Tensor v;
  for (int i = 0; i < (update ? iters_ : 1); ++i) {
    v = normalized(kernels::matmul(u.reshape({1, out}), w, false, false).reshape({in}), eps_);
    if (update) u = normalized(kernels::matmul(w, v.reshape({in, 1}), false, false).reshape({out}), eps_);
  }
  if (update) u_.mutable_data().copy_from(u);
  return v;
}

double SpectralNorm::sigma() const {
  NoGradGuard no_grad;
  return const_cast<SpectralNorm*>(this)->normalized_sigma().data().item();
}

Var SpectralNorm::normalized_sigma() {
  // A forward that records a graph is a training step: advance the power iteration.
  Tensor v = power_iteration(grad_enabled());
  const Var& w = inner_->weight();
  int64_t out = w.shape()[0], in = w.shape()[1];
  // sigma = u^T W v with u, v constants: differentiable in W only.
  Var wv = ops::matmul(w, ops::constant(v.reshape({in, 1})));
  return ops::sum(ops::mul(wv, ops::constant(u_.data().reshape({out, 1}))));
}

Var SpectralNorm::normalized_weight() { return ops::div(inner_->weight(), normalized_sigma()); }

Var SpectralNorm::forward(const Var& x) {
  return ops::linear(x, normalized_weight(), inner_->bias());
}

std::string SpectralNorm::config() const {
  return "{\"type\": \"SpectralNorm\", \"power_iterations\": " + std::to_string(iters_) +
         ", \"module\": " + inner_->config() + "}";
}

Named SpectralNorm::named_parameters() const {
  Named out;
  for (auto& [n, p] : inner_->named_parameters()) out.emplace_back("module." + n, p);
  return out;
}

Named SpectralNorm::named_buffers() const { return {{"u", u_}}; }

}  // namespace cgan::nn
