#include "rng.hpp"

#include <cmath>

namespace cgan {

namespace {
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
constexpr double kTwoPi = 6.283185307179586476925286766559;
}  // namespace

void Rng::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

void Rng::set_state(const std::array<uint64_t, 4>& s) {
  if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0)
    throw ValueError("Rng state must not be all zeros");
  s_ = s;
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  // Box-Muller; 1 - u keeps the log argument in (0, 1].
  double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

int64_t Rng::integer(int64_t n) {
  if (n <= 0) throw ValueError("Rng::integer: n must be positive");
  uint64_t un = static_cast<uint64_t>(n);
  uint64_t limit = UINT64_MAX - UINT64_MAX % un;  // reject the biased tail
  uint64_t r;
  do r = next_u64(); while (r >= limit);
  return static_cast<int64_t>(r % un);
}

Tensor Rng::normal(const Shape& shape, DType dtype, double mean, double std) {
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = t.data<T>();
    int64_t n = t.numel();
    // Box-Muller gives two normals per pair of uniforms; use both.
    for (int64_t i = 0; i < n; i += 2) {
      double u1 = 1.0 - uniform(), u2 = uniform();
      double r = std::sqrt(-2.0 * std::log(u1));
      d[i] = static_cast<T>(mean + std * r * std::cos(kTwoPi * u2));
      if (i + 1 < n) d[i + 1] = static_cast<T>(mean + std * r * std::sin(kTwoPi * u2));
    }
  });
  return t;
}

Tensor Rng::uniform(const Shape& shape, DType dtype, double low, double high) {
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<T>(low + (high - low) * uniform());
  });
  return t;
}

}  // namespace cgan
