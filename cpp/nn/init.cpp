#include "init.hpp"

#include <cmath>
#include <cstring>

namespace cgan::nn {

bool is_init_scheme(const std::string& s) {
  return s == "default" || s == "he_uniform" || s == "he_normal" || s == "glorot_uniform" ||
         s == "glorot_normal" || s == "normal" || s == "dcgan";
}

const char* init_schemes() {
  return "default, he_uniform, he_normal, glorot_uniform, glorot_normal, normal, dcgan";
}

void init_weight(Tensor& w, Tensor* b, const std::string& s, Rng& rng) {
  if (!is_init_scheme(s))
    throw ValueError("unknown init '" + s + "'; expected one of " + init_schemes());
  double receptive = 1;
  for (int64_t i = 2; i < w.ndim(); ++i) receptive *= double(w.shape()[i]);
  double fan_out = double(w.shape()[0]) * receptive, fan_in = double(w.shape()[1]) * receptive;
  Tensor nw;
  if (s == "default") {
    double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
    nw = rng.uniform(w.shape(), w.dtype(), -bound, bound);
    if (b) b->copy_from(rng.uniform(b->shape(), b->dtype(), -bound, bound));
  } else {
    if (s == "he_uniform") {
      double bound = std::sqrt(6.0 / fan_in);
      nw = rng.uniform(w.shape(), w.dtype(), -bound, bound);
    } else if (s == "he_normal") {
      nw = rng.normal(w.shape(), w.dtype(), 0.0, std::sqrt(2.0 / fan_in));
    } else if (s == "glorot_uniform") {
      double bound = std::sqrt(6.0 / (fan_in + fan_out));
      nw = rng.uniform(w.shape(), w.dtype(), -bound, bound);
    } else if (s == "glorot_normal") {
      nw = rng.normal(w.shape(), w.dtype(), 0.0, std::sqrt(2.0 / (fan_in + fan_out)));
    } else {
      nw = rng.normal(w.shape(), w.dtype(), 0.0, 0.02);
    }
    if (b) std::memset(b->raw(), 0, b->nbytes());
  }
  w.copy_from(nw);
}

}  // namespace cgan::nn
