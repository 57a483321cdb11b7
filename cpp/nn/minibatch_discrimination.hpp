// Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs",
// Sec. 3.2): each sample also sees how close it is to the rest of its batch, so that a
// discriminator can spot a batch of near-identical fakes (mode collapse).
//   M = x T reshaped to (N, B, C)                       T: (in_features, B*C)
//   o(x_i)_b = sum_{j != i} exp(-||M_i,b - M_j,b||_1)   (N, B)
//   out = concat(x, o(x))                               (N, in_features + B)
// The j = i term (always exp(0) = 1) is left out, as in the usual PyTorch implementation;
// state_dict holds "T" with that implementation's layout.
#pragma once
#include "module.hpp"

namespace cgan::nn {

class MinibatchDiscrimination : public Module {
 public:
  MinibatchDiscrimination(int64_t in_features, int64_t num_kernels, int64_t kernel_dim, Rng& rng);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "MinibatchDiscrimination"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  std::optional<Shape> in_shape() const override { return Shape{in_}; }
  Named own_parameters() const override { return {{"T", T_}}; }
  const Var& T() const { return T_; }

 private:
  int64_t in_, kernels_, dim_;
  Var T_;
};

}  // namespace cgan::nn
