// Convolutions of NCHW batches, with PyTorch's weight layouts and output sizes.
// Each derivative rule is written with these same ops (the input gradient of a
// convolution is a transposed convolution and vice versa; the weight gradients are
// correlations of the input with the output gradient), so create_graph works through
// them: a gradient penalty on a convolutional critic needs no special case.
#pragma once
#include <array>

#include "../autograd/variable.hpp"

namespace cgan::ops {

using Pair = std::array<int64_t, 2>;  // (height, width)

struct ConvGeometry {
  Pair stride{1, 1};
  Pair padding{0, 0};
  Pair output_padding{0, 0};  // transposed convolution only
};

// (C_out, H_out, W_out) of conv2d / conv_transpose2d for one image of shape (C, H, W) and
// a weight of the given shape; ValueError naming `who` (e.g. "Conv2d") when the channels
// disagree, the kernel exceeds the padded input, stride < 1, padding < 0,
// output_padding >= stride (or < 0), or an output size would be < 1.
//   conv2d:            H_out = (H + 2 p - kh) / s + 1,            weight (C_out, C, kh, kw)
//   conv_transpose2d:  H_out = (H - 1) s - 2 p + kh + output_padding, weight (C, C_out, kh, kw)
Shape conv2d_out_shape(const Shape& chw, const Shape& weight, const ConvGeometry& g, const char* who);
Shape conv_transpose2d_out_shape(const Shape& chw, const Shape& weight, const ConvGeometry& g,
                                 const char* who);

// x (N, C, H, W), w (C_out, C, kh, kw), b (C_out,) or undefined -> (N, C_out, H_out, W_out).
Var conv2d(const Var& x, const Var& w, const Var& b, const ConvGeometry& g);
// x (N, C, H, W), w (C, C_out, kh, kw), b (C_out,) or undefined -> (N, C_out, H_out, W_out).
Var conv_transpose2d(const Var& x, const Var& w, const Var& b, const ConvGeometry& g);
// The weight gradient of conv2d as an op of its own (bilinear in x and gy, with rules
// that are again convolutions): x (N, C, H, W), gy (N, O, H_out, W_out) of the conv2d
// with this kernel size and geometry -> (O, C, kh, kw), the sum over images and pixels
// of gy times the matching input patches.
Var conv2d_weight(const Var& x, const Var& gy, Pair kernel, const ConvGeometry& g);

}  // namespace cgan::ops
