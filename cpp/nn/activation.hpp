// Elementwise modules: activations by name, and dropout. They take any shape.
#pragma once
#include <optional>

#include "module.hpp"

namespace cgan::nn {

// relu, leaky_relu (param = negative slope, default 0.2), tanh, sigmoid, elu (param =
// alpha, default 1), softplus, identity. `param` must be finite; it is used as given.
class Activation : public Module {
 public:
  explicit Activation(const std::string& name, std::optional<double> param = std::nullopt);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Activation"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override { return in; }
  const std::string& name() const { return name_; }
  double param() const { return param_; }
  static bool is_name(const std::string& name);
  static const char* names();  // for error messages

 private:
  std::string name_;
  double param_;
};

// Zeroes each element with probability p in train mode and scales the rest by 1/(1-p)
// (PyTorch's inverted dropout); the identity in eval mode. Draws from forward_rng()
// when a GAN step set one, else from its own Rng.
class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Dropout"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override { return in; }
  double p() const { return p_; }

 private:
  double p_;
  Rng rng_;
};

}  // namespace cgan::nn
