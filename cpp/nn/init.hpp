// Weight initialisers. Each fills a (out, in) weight from a caller-owned Rng.
#pragma once
#include <string>

#include "../tensor/rng.hpp"

namespace cgan::nn {

// "default" (PyTorch's Linear: U(+-1/sqrt(in)) for weight and bias), "he_uniform",
// "he_normal" (gain sqrt(2), for ReLU nets), "glorot_uniform", "glorot_normal",
// "normal" (N(0, 0.02), as in DCGAN). All but "default" set the bias to zero.
void init_linear(Tensor& weight, Tensor* bias, const std::string& scheme, Rng& rng);
bool is_init_scheme(const std::string& scheme);

}  // namespace cgan::nn
