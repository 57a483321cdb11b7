#include "minibatch_discrimination.hpp"

#include <cmath>

#include "../ops/ops.hpp"

namespace cgan::nn {

MinibatchDiscrimination::MinibatchDiscrimination(int64_t in, int64_t kernels, int64_t dim, Rng& rng)
    : in_(in), kernels_(kernels), dim_(dim) {
  if (in < 1 || kernels < 1 || dim < 1)
    throw ValueError("MinibatchDiscrimination: in_features, num_kernels and kernel_dim must be >= 1, got " +
                     std::to_string(in) + ", " + std::to_string(kernels) + ", " + std::to_string(dim));
  if (kernels > (int64_t(1) << 40) / dim || in > (int64_t(1) << 40) / (kernels * dim))
    throw ValueError("MinibatchDiscrimination: in_features * num_kernels * kernel_dim is too large");
  // N(0, 1/in_features): rows of M then have the scale of x, so the L1 distances start at
  // O(kernel_dim) and exp(-distance) does not underflow (with N(0, 1) and a wide x every
  // o_b starts at 0 with no gradient).
  T_ = Var(rng.normal({in, kernels * dim}, DType::f32, 0.0, 1.0 / std::sqrt(double(in))), true);
}

Var MinibatchDiscrimination::forward(const Var& x) {
  check_input(*this, x.shape());
  int64_t n = x.shape()[0];
  Var m = ops::matmul(x, T_);                                   // (N, B*C)
  Var mi = ops::reshape(m, {n, 1, kernels_, dim_});             // (N, 1, B, C)
  Var mj = ops::reshape(m, {1, n, kernels_, dim_});             // (1, N, B, C)
  Var l1 = ops::sum(ops::abs(ops::sub(mi, mj)), 3);             // (N, N, B)
  Var o = ops::sub(ops::sum(ops::exp(ops::neg(l1)), 1), 1.0);   // (N, B), j = i left out
  // concat along the features: the ops concatenate rows, so through the transposes.
  return ops::transpose(ops::concat({ops::transpose(x), ops::transpose(o)}));
}

Shape MinibatchDiscrimination::out_shape(const Shape& in) const {
  if (in != Shape{in_})
    throw ValueError("MinibatchDiscrimination expects input of shape " + batch_shape_str({in_}) + ", got " +
                     batch_shape_str(in));
  return {in_ + kernels_};
}

Config MinibatchDiscrimination::config() const {
  Config c;
  c.set("type", "MinibatchDiscrimination");
  c.set("in_features", in_);
  c.set("num_kernels", kernels_);
  c.set("kernel_dim", dim_);
  return c;
}

}  // namespace cgan::nn
