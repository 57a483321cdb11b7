// Conv2d and ConvTranspose2d with PyTorch's semantics and weight layouts:
// Conv2d weight (out, in, kh, kw), ConvTranspose2d weight (in, out, kh, kw).
#pragma once
#include "../ops/conv.hpp"
#include "module.hpp"
#include "weighted.hpp"

namespace cgan::nn {

struct ConvOptions {
  int64_t in_channels = 0, out_channels = 0;
  ops::Pair kernel_size{1, 1};
  ops::ConvGeometry geometry;  // stride, padding, output_padding (transposed only)
  bool bias = true;
  std::string init = "default";
};

class Conv2d : public Module, public Weighted {
 public:
  Conv2d(const ConvOptions& o, Rng& rng);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Conv2d"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  Named own_parameters() const override;
  const Var& weight() const override { return weight_; }
  Var forward_with_weight(const Var& x, const Var& weight) override;
  const Var& bias() const { return bias_; }
  const ConvOptions& options() const { return o_; }

 protected:
  Conv2d(const ConvOptions& o, Rng& rng, Shape weight_shape);
  ConvOptions o_;
  Var weight_, bias_;
};

class ConvTranspose2d : public Conv2d {
 public:
  ConvTranspose2d(const ConvOptions& o, Rng& rng);
  Var forward_with_weight(const Var& x, const Var& weight) override;
  std::string type_name() const override { return "ConvTranspose2d"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
};

// Options from a config object (shared by both types' from_config).
ConvOptions conv_options(const Config& c, bool transposed);

}  // namespace cgan::nn
