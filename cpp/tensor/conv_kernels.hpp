// Raw 2-D convolution kernels on NCHW tensors, no graph: the forward convolution, its
// input gradient (col2im; the same computation is a transposed convolution's forward)
// and its weight gradient. im2col + GEMM through Eigen, images spread over the thread
// pool; every result is bitwise repeatable for a fixed thread count.
#pragma once
#include "tensor.hpp"

namespace cgan::kernels {

// The sizes of one convolution, always seen from conv2d's side:
//   input x (n, c, h, w), weight (o, c, kh, kw), output y (n, o, ho, wo),
//   ho = (h + 2 ph - kh) / sh + 1 (and likewise wo).
// A transposed convolution is the same geometry read backwards: its input is the
// (n, o, ho, wo) side and its output the (n, c, h, w) side (h may exceed the formula's
// inverse by an output padding < sh; those rows get only the bias).
struct ConvDims {
  int64_t n, c, h, w;
  int64_t o, kh, kw;
  int64_t ho, wo;
  int64_t sh, sw, ph, pw;
  int64_t ck() const { return c * kh * kw; }  // rows of the column matrix
  int64_t l() const { return ho * wo; }       // columns of one image's column matrix
};

// y (n, o, ho, wo) = conv2d(x (n, c, h, w), weight (o, c, kh, kw)) [+ bias (o,)].
Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const ConvDims& d);

// dx (n, c, h, w) from g (n, o, ho, wo) and weight (o, c, kh, kw): the adjoint of
// conv2d_forward in x [+ bias (c,) on every pixel]. With the bias this is
// conv_transpose2d's forward for an input g and a (in = o, out = c, kh, kw) weight.
Tensor conv2d_backward_input(const Tensor& g, const Tensor& weight, const Tensor* bias,
                             const ConvDims& d);

// dweight (o, c, kh, kw) = sum over images of g_n (o, ho wo) @ cols(x_n)^T: the adjoint of
// conv2d_forward in the weight. The sum over images is split into fixed pieces (one per
// thread) whose partial sums are added in piece order.
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& g, const ConvDims& d);

}  // namespace cgan::kernels
