#include "activation.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "../tensor/kernels.hpp"

namespace cgan::nn {

bool Activation::is_name(const std::string& n) {
  return n == "relu" || n == "leaky_relu" || n == "tanh" || n == "sigmoid" || n == "elu" ||
         n == "softplus" || n == "identity";
}

const char* Activation::names() { return "relu, leaky_relu, tanh, sigmoid, elu, softplus, identity"; }

Activation::Activation(const std::string& name, std::optional<double> param) : name_(name) {
  if (!is_name(name))
    throw ValueError("unknown activation '" + name + "'; expected one of " + names());
  bool has_param = name == "leaky_relu" || name == "elu";
  if (param && !has_param)
    throw ValueError("Activation '" + name + "' takes no parameter, got " + std::to_string(*param));
  if (param && !std::isfinite(*param))
    throw ValueError("Activation '" + name + "': param must be finite, got " + std::to_string(*param));
  param_ = param ? *param : name == "leaky_relu" ? 0.2 : name == "elu" ? 1.0 : 0.0;
}

Var Activation::forward(const Var& x) {
  if (name_ == "relu") return ops::relu(x);
  if (name_ == "leaky_relu") return ops::leaky_relu(x, param_);
  if (name_ == "tanh") return ops::tanh(x);
  if (name_ == "sigmoid") return ops::sigmoid(x);
  if (name_ == "elu") return ops::elu(x, param_);
  if (name_ == "softplus") return ops::softplus(x);
  return x;
}

Config Activation::config() const {
  Config c;
  c.set("type", "Activation");
  c.set("name", name_);
  c.set("param", (name_ == "leaky_relu" || name_ == "elu") ? Config(param_) : Config());
  return c;
}

// ---- Dropout --------------------------------------------------------------------------------

Dropout::Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {
  if (!(p >= 0 && p < 1)) throw ValueError("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

Var Dropout::forward(const Var& x) {
  if (!training() || p_ == 0) return x;
  Rng& rng = forward_rng() ? *forward_rng() : rng_;
  double keep = 1.0 - p_, scale = 1.0 / keep;
  Tensor u = rng.uniform(x.shape(), x.dtype());
  Tensor mask = kernels::map(u, [keep, scale](auto v) { return decltype(v)(v < keep ? scale : 0); });
  return ops::mul(x, ops::constant(mask));
}

Config Dropout::config() const {
  Config c;
  c.set("type", "Dropout");
  c.set("p", p_);
  return c;
}

}  // namespace cgan::nn
