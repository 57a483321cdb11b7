// Layers that change the layout of a sample, not its values: Flatten (to a vector),
// Unflatten (a vector to a shape, e.g. (128, 7, 7) in a DCGAN generator) and
// nearest-neighbour Upsample of (C, H, W) images.
#pragma once
#include "module.hpp"

namespace cgan::nn {

class Flatten : public Module {
 public:
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Flatten"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
};

class Unflatten : public Module {
 public:
  explicit Unflatten(Shape shape);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Unflatten"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  std::optional<Shape> in_shape() const override { return Shape{shape_numel(shape_)}; }

 private:
  Shape shape_;
};

class Upsample : public Module {
 public:
  Upsample(int64_t scale_h, int64_t scale_w);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Upsample"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;

 private:
  int64_t sh_, sw_;
};

}  // namespace cgan::nn
