#include "reshape.hpp"

#include "../ops/norm.hpp"
#include "../ops/ops.hpp"

namespace cgan::nn {

// ---- Flatten --------------------------------------------------------------------------------

Var Flatten::forward(const Var& x) {
  Shape s = sample_shape(x.shape(), "Flatten");
  return ops::reshape(x, {x.shape()[0], shape_numel(s)});
}

Shape Flatten::out_shape(const Shape& in) const { return {shape_numel(in)}; }

Config Flatten::config() const {
  Config c;
  c.set("type", "Flatten");
  return c;
}

// ---- Unflatten ------------------------------------------------------------------------------

Unflatten::Unflatten(Shape shape) : shape_(std::move(shape)) {
  if (shape_.empty()) throw ValueError("Unflatten: shape must have at least one dim");
  for (int64_t d : shape_)
    if (d < 1) throw ValueError("Unflatten: shape " + shape_str(shape_) + " has a dim < 1");
}

Var Unflatten::forward(const Var& x) {
  out_shape(sample_shape(x.shape(), "Unflatten"));
  Shape s{x.shape()[0]};
  s.insert(s.end(), shape_.begin(), shape_.end());
  return ops::reshape(x, s);
}

Shape Unflatten::out_shape(const Shape& in) const {
  if (in != Shape{shape_numel(shape_)})
    throw ValueError("Unflatten" + shape_str(shape_) + " expects input of shape " +
                     batch_shape_str({shape_numel(shape_)}) + ", got " + batch_shape_str(in));
  return shape_;
}

Config Unflatten::config() const {
  Config c;
  c.set("type", "Unflatten");
  c.set("shape", Config::ints(shape_));
  return c;
}

// ---- Upsample -------------------------------------------------------------------------------

Upsample::Upsample(int64_t sh, int64_t sw) : sh_(sh), sw_(sw) {
  if (sh < 1 || sw < 1)
    throw ValueError("Upsample: scale_factor must be >= 1, got (" + std::to_string(sh) + ", " +
                     std::to_string(sw) + ")");
}

Var Upsample::forward(const Var& x) { return ops::upsample_nearest(x, sh_, sw_); }

Shape Upsample::out_shape(const Shape& in) const {
  if (in.size() != 3)
    throw ValueError("Upsample expects images (N, C, H, W), got " + batch_shape_str(in));
  return {in[0], in[1] * sh_, in[2] * sw_};
}

Config Upsample::config() const {
  Config c;
  c.set("type", "Upsample");
  c.set("scale_factor", Config::ints({sh_, sw_}));
  return c;
}

}  // namespace cgan::nn
