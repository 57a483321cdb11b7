// A seeded random number generator owned by whoever uses it (a GAN, an initialiser),
// never global. xoshiro256** with a four-word state that can be saved and restored,
// so a run resumed from a checkpoint draws exactly the numbers it would have drawn.
#pragma once
#include <array>
#include <cstdint>

#include "tensor.hpp"

namespace cgan {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  uint64_t next_u64();
  double uniform();                 // [0, 1)
  double normal();                  // N(0, 1)
  int64_t integer(int64_t n);       // uniform on {0, ..., n-1}, unbiased

  Tensor normal(const Shape& shape, DType dtype, double mean = 0.0, double std = 1.0);
  Tensor uniform(const Shape& shape, DType dtype, double low = 0.0, double high = 1.0);

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s);

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace cgan
