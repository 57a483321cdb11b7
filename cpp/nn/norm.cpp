#include "norm.hpp"

#include <cmath>

#include "../ops/norm.hpp"
#include "../tensor/kernels.hpp"

namespace cgan::nn {

namespace {
void check_eps(double eps, const char* who) {
  if (!(eps > 0 && std::isfinite(eps)))
    throw ValueError(std::string(who) + ": eps must be positive and finite, got " + std::to_string(eps));
}
}  // namespace

// ---- BatchNorm ------------------------------------------------------------------------------

BatchNorm::BatchNorm(int dims, int64_t c, double eps, double momentum, bool affine)
    : dims_(dims), c_(c), eps_(eps), momentum_(momentum) {
  const std::string who = type_name();
  if (c < 1) throw ValueError(who + ": num_features must be >= 1, got " + std::to_string(c));
  check_eps(eps, who.c_str());
  if (!(momentum >= 0 && momentum <= 1))
    throw ValueError(who + ": momentum must be in [0, 1], got " + std::to_string(momentum));
  if (affine) {
    weight_ = Var(Tensor::full({c}, 1.0, DType::f32), true);
    bias_ = Var(Tensor::zeros({c}, DType::f32), true);
  }
  running_mean_ = Var(Tensor::zeros({c}, DType::f32));
  running_var_ = Var(Tensor::full({c}, 1.0, DType::f32));
  num_batches_tracked_ = Var(Tensor::zeros({}, DType::f32));
}

Shape BatchNorm::out_shape(const Shape& in) const {
  bool rank_ok = dims_ == 2 ? in.size() == 3 : (in.size() == 1 || in.size() == 2);
  if (!rank_ok || in[0] != c_)
    throw ValueError(type_name() + "(" + std::to_string(c_) + ") expects input of shape " +
                     (dims_ == 2 ? "(N, " + std::to_string(c_) + ", H, W)"
                                 : "(N, " + std::to_string(c_) + ") or (N, " + std::to_string(c_) + ", L)") +
                     ", got " + batch_shape_str(in));
  return in;
}

Var BatchNorm::forward(const Var& x) {
  if (!training())
    return ops::batch_norm_eval(x, running_mean_.data(), running_var_.data(), weight_, bias_, eps_);
  ops::BatchStats stats;
  Var y = ops::batch_norm_train(x, weight_, bias_, eps_, &stats);
  if (updates_running_state()) {
    // running = (1 - m) running + m stat, with the unbiased variance (PyTorch).
    double n = double(x.numel() / c_), m = momentum_;
    double unbias = n > 1 ? n / (n - 1) : 1.0;
    auto blend = [m](Var& run, const Tensor& stat, double scale) {
      Tensor s = stat.dtype() == run.dtype() ? stat : stat.to(run.dtype());
      run.mutable_data().copy_from(kernels::zip(run.data(), s, [m, scale](auto r, auto v) {
        return decltype(r)((1 - m) * r + m * scale * v);
      }, "BatchNorm"));
    };
    blend(running_mean_, stats.mean, 1.0);
    blend(running_var_, stats.var, unbias);
    Tensor& count = num_batches_tracked_.mutable_data();
    count.copy_from(Tensor::scalar(count.item() + 1, count.dtype()));
  }
  return y;
}

Config BatchNorm::config() const {
  Config c;
  c.set("type", type_name());
  c.set("num_features", c_);
  c.set("eps", eps_);
  c.set("momentum", momentum_);
  c.set("affine", weight_.defined());
  return c;
}

Named BatchNorm::own_parameters() const {
  if (!weight_.defined()) return {};
  return {{"weight", weight_}, {"bias", bias_}};
}

Named BatchNorm::own_buffers() const {
  return {{"running_mean", running_mean_}, {"running_var", running_var_},
          {"num_batches_tracked", num_batches_tracked_}};
}

// ---- LayerNorm ------------------------------------------------------------------------------

LayerNorm::LayerNorm(Shape shape, double eps, bool affine) : shape_(std::move(shape)), eps_(eps) {
  if (shape_.empty()) throw ValueError("LayerNorm: normalized_shape must have at least one dim");
  for (int64_t d : shape_)
    if (d < 1) throw ValueError("LayerNorm: normalized_shape " + shape_str(shape_) + " has a dim < 1");
  check_eps(eps, "LayerNorm");
  if (affine) {
    weight_ = Var(Tensor::full(shape_, 1.0, DType::f32), true);
    bias_ = Var(Tensor::zeros(shape_, DType::f32), true);
  }
}

Shape LayerNorm::out_shape(const Shape& in) const {
  size_t k = shape_.size();
  if (in.size() < k || !std::equal(shape_.begin(), shape_.end(), in.end() - k))
    throw ValueError("LayerNorm(normalized_shape=" + shape_str(shape_) +
                     ") expects input whose trailing dims are " + shape_str(shape_) + ", got " +
                     batch_shape_str(in));
  return in;
}

Var LayerNorm::forward(const Var& x) {
  return ops::layer_norm(x, int64_t(shape_.size()), weight_, bias_, eps_);
}

Config LayerNorm::config() const {
  Config c;
  c.set("type", "LayerNorm");
  c.set("normalized_shape", Config::ints(shape_));
  c.set("eps", eps_);
  c.set("elementwise_affine", weight_.defined());
  return c;
}

Named LayerNorm::own_parameters() const {
  if (!weight_.defined()) return {};
  return {{"weight", weight_}, {"bias", bias_}};
}

}  // namespace cgan::nn
