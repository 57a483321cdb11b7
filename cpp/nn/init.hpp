// Weight initialisers. Each fills a weight (and optional bias) from a caller-owned Rng.
// Fans follow PyTorch: for a weight of shape (a, b, *kernel), fan_in = b * prod(kernel)
// and fan_out = a * prod(kernel) (Linear (out, in), Conv2d (out, in, kh, kw); for
// ConvTranspose2d's (in, out, kh, kw) PyTorch counts the same way).
#pragma once
#include <string>

#include "../tensor/rng.hpp"

namespace cgan::nn {

// "default" (PyTorch's Linear/Conv: U(+-1/sqrt(fan_in)) for weight and bias),
// "he_uniform", "he_normal" (gain sqrt(2), for ReLU nets), "glorot_uniform",
// "glorot_normal", "normal" and its alias "dcgan" (N(0, 0.02), Radford et al. 2016).
// All but "default" set the bias to zero.
void init_weight(Tensor& weight, Tensor* bias, const std::string& scheme, Rng& rng);
bool is_init_scheme(const std::string& scheme);
const char* init_schemes();  // for error messages

}  // namespace cgan::nn
