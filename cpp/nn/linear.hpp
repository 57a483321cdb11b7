// Linear: y = x W^T + b, W of shape (out, in); input (N, in).
#pragma once
#include "module.hpp"
#include "weighted.hpp"

namespace cgan::nn {

class Linear : public Module, public Weighted {
 public:
  Linear(int64_t in, int64_t out, bool bias, const std::string& init, Rng& rng);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Linear"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  std::optional<Shape> in_shape() const override { return Shape{in_}; }
  Named own_parameters() const override;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  const Var& weight() const override { return weight_; }
  Var forward_with_weight(const Var& x, const Var& weight) override;
  const Var& bias() const { return bias_; }

 private:
  int64_t in_, out_;
  std::string init_;
  Var weight_, bias_;
};

}  // namespace cgan::nn
