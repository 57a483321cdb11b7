#include "linear.hpp"

#include "../ops/ops.hpp"
#include "init.hpp"

namespace cgan::nn {

Linear::Linear(int64_t in, int64_t out, bool bias, const std::string& init, Rng& rng)
    : in_(in), out_(out), init_(init) {
  if (in < 1 || out < 1)
    throw ValueError("Linear: in_features and out_features must be >= 1, got " +
                     std::to_string(in) + " and " + std::to_string(out));
  Tensor w = Tensor::empty({out, in}, DType::f32);
  Tensor b = bias ? Tensor::empty({out}, DType::f32) : Tensor();
  init_weight(w, bias ? &b : nullptr, init, rng);
  weight_ = Var(w, true);
  if (bias) bias_ = Var(b, true);
}

Var Linear::forward(const Var& x) { return forward_with_weight(x, weight_); }

Var Linear::forward_with_weight(const Var& x, const Var& w) { return ops::linear(x, w, bias_); }

Shape Linear::out_shape(const Shape& in) const {
  if (in != Shape{in_})
    throw ValueError("Linear expects input of shape " + batch_shape_str({in_}) + ", got " +
                     batch_shape_str(in));
  return {out_};
}

Config Linear::config() const {
  Config c;
  c.set("type", "Linear");
  c.set("in_features", in_);
  c.set("out_features", out_);
  c.set("bias", bias_.defined());
  c.set("init", init_);
  return c;
}

Named Linear::own_parameters() const {
  Named out{{"weight", weight_}};
  if (bias_.defined()) out.emplace_back("bias", bias_);
  return out;
}

}  // namespace cgan::nn
