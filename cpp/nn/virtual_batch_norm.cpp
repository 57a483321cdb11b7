#include "virtual_batch_norm.hpp"

#include <cmath>

#include "../ops/ops.hpp"

namespace cgan::nn {

namespace {
thread_local bool reference_pass = false;

// Mean over every axis but the channel axis 1 of x (N, C) or (N, C, H, W) -> (1, C[, 1, 1]).
Var mean_over_batch(const Var& x) {
  Var m = ops::mean(x, 0, true);
  for (int64_t a = x.data().ndim() - 1; a >= 2; --a) m = ops::mean(m, a, true);
  return m;
}

// Each sample's own mean over its spatial axes (N, C, H, W) -> (N, C, 1, 1); x for (N, C).
Var per_sample(const Var& x) {
  Var m = x;
  for (int64_t a = x.data().ndim() - 1; a >= 2; --a) m = ops::mean(m, a, true);
  return m;
}
}  // namespace

VbnReferencePass::VbnReferencePass() : prev_(reference_pass) { reference_pass = true; }
VbnReferencePass::~VbnReferencePass() { reference_pass = prev_; }

VirtualBatchNorm::VirtualBatchNorm(int dims, int64_t c, double eps) : dims_(dims), c_(c), eps_(eps) {
  const std::string who = type_name();
  if (c < 1) throw ValueError(who + ": num_features must be >= 1, got " + std::to_string(c));
  if (!(eps > 0 && std::isfinite(eps)))
    throw ValueError(who + ": eps must be positive and finite, got " + std::to_string(eps));
  weight_ = Var(Tensor::full({c}, 1.0, DType::f32), true);
  bias_ = Var(Tensor::zeros({c}, DType::f32), true);
}

Shape VirtualBatchNorm::out_shape(const Shape& in) const {
  const size_t rank = dims_ == 2 ? 3 : 1;
  if (in.size() != rank || in[0] != c_)
    throw ValueError(type_name() + "(" + std::to_string(c_) + ") expects input " +
                     (dims_ == 2 ? "(N, " + std::to_string(c_) + ", H, W)" : "(N, " + std::to_string(c_) + ")") +
                     ", got " + batch_shape_str(in));
  return in;
}

Var VirtualBatchNorm::forward(const Var& x) {
  check_input(*this, x.shape());
  Var mean, mean_sq;
  if (reference_pass) {
    ref_mean_ = mean_over_batch(x);
    ref_mean_sq_ = mean_over_batch(ops::square(x));
    ref_n_ = x.shape()[0];
    mean = ref_mean_;
    mean_sq = ref_mean_sq_;
  } else {
    // Outside a reference pass's scope (the module called on its own) the batch serves
    // as its own reference.
    const bool own_ref = !ref_mean_.defined();
    Var r_mean = own_ref ? mean_over_batch(x) : ref_mean_;
    Var r_mean_sq = own_ref ? mean_over_batch(ops::square(x)) : ref_mean_sq_;
    const double c = 1.0 / double((own_ref ? x.shape()[0] : ref_n_) + 1);
    mean = ops::add(ops::mul(per_sample(x), c), ops::mul(r_mean, 1 - c));
    mean_sq = ops::add(ops::mul(per_sample(ops::square(x)), c), ops::mul(r_mean_sq, 1 - c));
  }
  // mean2 - mean^2 can round below 0; the variance is >= 0.
  Var var = ops::clamp(ops::sub(mean_sq, ops::square(mean)), 0.0);
  Var y = ops::div(ops::sub(x, mean), ops::sqrt(ops::add(var, eps_)));
  Shape bshape = dims_ == 2 ? Shape{1, c_, 1, 1} : Shape{1, c_};
  return ops::add(ops::mul(y, ops::reshape(weight_, bshape)), ops::reshape(bias_, bshape));
}

Config VirtualBatchNorm::config() const {
  Config c;
  c.set("type", type_name());
  c.set("num_features", c_);
  c.set("eps", eps_);
  return c;
}

bool has_virtual_batch_norm(const Module& m) {
  if (dynamic_cast<const VirtualBatchNorm*>(&m)) return true;
  for (auto& [name, child] : m.children())
    if (child && has_virtual_batch_norm(*child)) return true;
  return false;
}

void clear_vbn_references(Module& m) {
  if (auto* v = dynamic_cast<VirtualBatchNorm*>(&m)) v->clear_reference();
  for (auto& [name, child] : m.children())
    if (child) clear_vbn_references(*child);
}

}  // namespace cgan::nn
