// Modules: a forward function of Vars plus named parameters (and buffers, state that
// is saved but not trained, such as spectral norm's power-iteration vector).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../autograd/variable.hpp"
#include "../tensor/rng.hpp"

namespace cgan::nn {

using Named = std::vector<std::pair<std::string, Var>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual Var forward(const Var& x) = 0;
  virtual std::string type_name() const = 0;
  // Architecture as JSON text: enough for cgan.nn.from_config to rebuild the module.
  virtual std::string config() const = 0;
  // Expected input width (last axis) or -1 when any width is accepted.
  virtual int64_t in_features() const { return -1; }
  virtual int64_t out_features() const { return -1; }

  virtual Named named_parameters() const { return {}; }
  virtual Named named_buffers() const { return {}; }
  std::vector<Var> parameters() const;
  // Converts parameters and buffers to `dtype` in place (the Var handles stay the same,
  // so optimizers built earlier keep working).
  void to(DType dtype);
  DType dtype() const;
};

using ModulePtr = std::shared_ptr<Module>;

// y = x W^T + b, W of shape (out, in).
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, const std::string& init, Rng& rng);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string config() const override;
  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  Named named_parameters() const override;
  const Var& weight() const { return weight_; }
  const Var& bias() const { return bias_; }

 private:
  int64_t in_, out_;
  std::string init_;
  Var weight_, bias_;
};

// Elementwise activation by name: relu, leaky_relu (param = negative slope), tanh,
// sigmoid, elu (param = alpha), softplus, identity.
class Activation : public Module {
 public:
  explicit Activation(const std::string& name, double param = -1);  // param < 0: default
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Activation"; }
  std::string config() const override;
  const std::string& name() const { return name_; }
  double param() const { return param_; }
  static bool is_name(const std::string& name);

 private:
  std::string name_;
  double param_;
};

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<ModulePtr> layers);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Sequential"; }
  std::string config() const override;
  int64_t in_features() const override;
  int64_t out_features() const override;
  Named named_parameters() const override;
  Named named_buffers() const override;
  const std::vector<ModulePtr>& layers() const { return layers_; }
  // Output of layers [0, end): e.g. an autoencoder's code.
  Var forward_until(const Var& x, size_t end);

 protected:
  std::vector<ModulePtr> layers_;
};

struct MLPOptions {
  int64_t in_features = 0;
  std::vector<int64_t> hidden;
  int64_t out_features = 0;
  std::string activation = "relu";
  std::string out_activation = "identity";
  double negative_slope = 0.2;  // for leaky_relu
  bool spectral_norm = false;
  std::string init = "default";
};

// Linear -> activation -> ... -> Linear -> out_activation.
class MLP : public Sequential {
 public:
  MLP(const MLPOptions& opt, Rng& rng);
  std::string type_name() const override { return "MLP"; }
  std::string config() const override;
  const MLPOptions& options() const { return opt_; }

 private:
  MLPOptions opt_;
};

// JSON string literal for a std::string (quotes and backslashes escaped).
std::string json_str(const std::string& s);

}  // namespace cgan::nn
