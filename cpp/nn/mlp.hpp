// MLP: Linear -> activation -> ... -> Linear (-> out_activation), a Sequential whose
// config is the short form (widths and names) rather than the list of layers. With
// num_classes it is conditional (Mirza and Osindero 2014): the first layer's output
// gets E[y] added, which is exactly a one-hot label concatenated to the input.
#pragma once
#include "module.hpp"

namespace cgan::nn {

struct MLPOptions {
  int64_t in_features = 0;
  std::vector<int64_t> hidden;
  int64_t out_features = 0;
  std::string activation = "relu";
  std::string out_activation = "identity";
  double negative_slope = 0.2;  // for leaky_relu hidden activations
  bool spectral_norm = false;
  std::string init = "default";
  int64_t num_classes = 0;  // > 0: conditional, a label vector added after the first Linear
};

class MLP : public Sequential {
 public:
  MLP(const MLPOptions& opt, Rng& rng);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "MLP"; }
  Named own_parameters() const override;
  Config config() const override;
  const MLPOptions& options() const { return opt_; }
  // Spectral normalisation installed later (spectral_norm_all) shows in the config.
  void replace_layer(size_t i, ModulePtr layer) override;

 private:
  MLPOptions opt_;
  Var table_;  // (num_classes, first hidden width) when conditional
};

}  // namespace cgan::nn
