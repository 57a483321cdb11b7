// MLP: Linear -> activation -> ... -> Linear (-> out_activation), a Sequential whose
// config is the short form (widths and names) rather than the list of layers.
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
};

class MLP : public Sequential {
 public:
  MLP(const MLPOptions& opt, Rng& rng);
  std::string type_name() const override { return "MLP"; }
  Config config() const override;
  const MLPOptions& options() const { return opt_; }
  // Spectral normalisation installed later (spectral_norm_all) shows in the config.
  void replace_layer(size_t i, ModulePtr layer) override;

 private:
  MLPOptions opt_;
};

}  // namespace cgan::nn
