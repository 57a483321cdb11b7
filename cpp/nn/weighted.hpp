// A layer whose product with a weight can be run with another weight of the same
// shape: what spectral normalisation needs to wrap Linear, Conv2d and ConvTranspose2d.
#pragma once
#include "../autograd/variable.hpp"

namespace cgan::nn {

class Weighted {
 public:
  virtual ~Weighted() = default;
  virtual const Var& weight() const = 0;
  virtual Var forward_with_weight(const Var& x, const Var& weight) = 0;
};

}  // namespace cgan::nn
