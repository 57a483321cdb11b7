// Convolution ops and their derivative rules. Three ops, each linear in each input, close
// the set under differentiation:
//   conv2d(x, w)              y = x * w (correlation)
//   conv_transpose2d(x, w)    the adjoint of conv2d in its input
//   conv2d_weight(x, gy)      the adjoint of conv2d in its weight
// Every rule is one of the three applied to the incoming gradient, so gradients of
// gradients (a gradient penalty's backward) are again convolutions.
#include "conv.hpp"

#include <string>

#include "../tensor/conv_kernels.hpp"
#include "ops.hpp"

namespace cgan::ops {

namespace {
using V = std::vector<Var>;

std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

void check_geometry(const ConvGeometry& g, const std::string& who, bool transposed) {
  if (g.stride[0] < 1 || g.stride[1] < 1)
    throw ValueError(who + ": stride must be >= 1, got " + pair_str(g.stride));
  if (g.padding[0] < 0 || g.padding[1] < 0)
    throw ValueError(who + ": padding must be >= 0, got " + pair_str(g.padding));
  const Pair& op = g.output_padding;
  if (!transposed && (op[0] != 0 || op[1] != 0))
    throw ValueError(who + ": output_padding applies to transposed convolutions only, got " +
                     pair_str(op));
  for (int a = 0; a < 2; ++a)
    if (op[a] < 0 || op[a] >= g.stride[a])
      throw ValueError(who + ": output_padding must be in [0, stride), got output_padding " +
                       pair_str(op) + " with stride " + pair_str(g.stride));
}

void check_operands(const Shape& chw, const Shape& weight, const std::string& who) {
  if (chw.size() != 3)
    throw ValueError(who + ": expects images of shape (C, H, W), got " + shape_str(chw));
  if (weight.size() != 4)
    throw ValueError(who + ": expects a 4-D weight, got shape " + shape_str(weight));
  for (int64_t v : weight)
    if (v < 1) throw ValueError(who + ": weight of shape " + shape_str(weight) + " has an empty axis");
  if (chw[1] < 1 || chw[2] < 1)
    throw ValueError(who + ": images of shape " + shape_str(chw) + " are empty");
}

// The same geometry with the output padding a transposed convolution needs to map
// `small` (conv2d's output side) back to exactly `big` (conv2d's input side).
ConvGeometry recovering(const ConvGeometry& g, const Shape& big, const Shape& small, const Shape& w) {
  ConvGeometry r = g;
  for (int a = 0; a < 2; ++a)
    r.output_padding[a] = big[2 + a] - ((small[2 + a] - 1) * g.stride[a] - 2 * g.padding[a] + w[2 + a]);
  return r;
}

ConvGeometry without_output_padding(const ConvGeometry& g) {
  ConvGeometry r = g;
  r.output_padding = {0, 0};
  return r;
}

// conv2d's sizes for input x (N, C, H, W), kernel (kh, kw), output (N, O, Ho, Wo).
kernels::ConvDims dims(const Shape& x, Pair k, const Shape& y, const ConvGeometry& g) {
  return {x[0], x[1], x[2], x[3], y[1], k[0], k[1], y[2], y[3],
          g.stride[0], g.stride[1], g.padding[0], g.padding[1]};
}

void check_batch(const Var& x, const char* who, const char* what) {
  if (x.data().ndim() != 4)
    throw ValueError(std::string(who) + ": expects " + what + " of shape (N, C, H, W), got " +
                     shape_str(x.shape()));
}

Shape image_shape(const Shape& nchw) { return {nchw[1], nchw[2], nchw[3]}; }

// Float32 operands with any float64 one are promoted to float64 (NumPy's rule, as add).
void promote(Var& x, Var& w, Var& b) {
  bool f64 = x.dtype() == DType::f64 || w.dtype() == DType::f64 ||
             (b.defined() && b.dtype() == DType::f64);
  if (!f64) return;
  x = cast(x, DType::f64);
  w = cast(w, DType::f64);
  if (b.defined()) b = cast(b, DType::f64);
}

void check_bias(const Var& b, int64_t channels, const char* who) {
  if (b.defined() && (b.data().ndim() != 1 || b.shape()[0] != channels))
    throw ValueError(std::string(who) + ": bias must have shape (" + std::to_string(channels) +
                     ",), got " + shape_str(b.shape()));
}

// Gradient of a per-channel bias: g (N, C, H, W) summed over N, H and W -> (C,).
Var bias_grad(const Var& g) {
  const Shape& s = g.shape();
  return sum(sum(reshape(g, {s[0], s[1], s[2] * s[3]}), 2), 0);
}
}  // namespace

Shape conv2d_out_shape(const Shape& chw, const Shape& weight, const ConvGeometry& g, const char* who) {
  const std::string w(who);
  check_operands(chw, weight, w);
  check_geometry(g, w, false);
  if (chw[0] != weight[1])
    throw ValueError(w + ": input has " + std::to_string(chw[0]) + " channels (image shape " +
                     shape_str(chw) + ") but the weight of shape " + shape_str(weight) + " expects " +
                     std::to_string(weight[1]));
  Shape out{weight[0], 0, 0};
  for (int a = 0; a < 2; ++a) {
    const int64_t padded = chw[1 + a] + 2 * g.padding[a];
    if (weight[2 + a] > padded)
      throw ValueError(w + ": kernel " + pair_str({weight[2], weight[3]}) +
                       " is larger than the padded input " +
                       pair_str({chw[1] + 2 * g.padding[0], chw[2] + 2 * g.padding[1]}) +
                       " (image shape " + shape_str(chw) + ", padding " + pair_str(g.padding) + ")");
    out[1 + a] = (padded - weight[2 + a]) / g.stride[a] + 1;
  }
  return out;
}

Shape conv_transpose2d_out_shape(const Shape& chw, const Shape& weight, const ConvGeometry& g,
                                 const char* who) {
  const std::string w(who);
  check_operands(chw, weight, w);
  check_geometry(g, w, true);
  if (chw[0] != weight[0])
    throw ValueError(w + ": input has " + std::to_string(chw[0]) + " channels (image shape " +
                     shape_str(chw) + ") but the weight of shape " + shape_str(weight) +
                     " expects " + std::to_string(weight[0]));
  Shape out{weight[1], 0, 0};
  for (int a = 0; a < 2; ++a)
    out[1 + a] = (chw[1 + a] - 1) * g.stride[a] - 2 * g.padding[a] + weight[2 + a] +
                 g.output_padding[a];
  if (out[1] < 1 || out[2] < 1)
    throw ValueError(w + ": output size " + pair_str({out[1], out[2]}) + " is below 1 (image shape " +
                     shape_str(chw) + ", kernel " + pair_str({weight[2], weight[3]}) +
                     ", padding " + pair_str(g.padding) + ")");
  return out;
}

Var conv2d(const Var& x0, const Var& w0, const Var& b0, const ConvGeometry& g) {
  check_batch(x0, "conv2d", "an input");
  Var x = x0, w = w0, b = b0;
  promote(x, w, b);
  Shape o = conv2d_out_shape(image_shape(x.shape()), w.shape(), g, "conv2d");
  check_bias(b, w.shape()[0], "conv2d");
  const auto d = dims(x.shape(), {w.shape()[2], w.shape()[3]}, {x.shape()[0], o[0], o[1], o[2]}, g);
  Tensor y = kernels::conv2d_forward(x.data(), w.data(), b.defined() ? &b.data() : nullptr, d);
  V in{x, w};
  if (b.defined()) in.push_back(b);
  return record("conv2d", std::move(y), std::move(in), [g](const BackwardCtx& c) {
    const Var &gy = c.grad_out, &x = c.in[0], &w = c.in[1];
    V r(c.in.size());
    if (c.needs[0]) r[0] = conv_transpose2d(gy, w, Var(), recovering(g, x.shape(), gy.shape(), w.shape()));
    if (c.needs[1]) r[1] = conv2d_weight(x, gy, {w.shape()[2], w.shape()[3]}, g);
    if (c.in.size() > 2 && c.needs[2]) r[2] = bias_grad(gy);
    return r;
  });
}

Var conv_transpose2d(const Var& x0, const Var& w0, const Var& b0, const ConvGeometry& g) {
  check_batch(x0, "conv_transpose2d", "an input");
  Var x = x0, w = w0, b = b0;
  promote(x, w, b);
  Shape o = conv_transpose2d_out_shape(image_shape(x.shape()), w.shape(), g, "conv_transpose2d");
  check_bias(b, w.shape()[1], "conv_transpose2d");
  // Seen from conv2d's side, the output is the input and x the output.
  const auto d = dims({x.shape()[0], o[0], o[1], o[2]}, {w.shape()[2], w.shape()[3]}, x.shape(), g);
  Tensor y = kernels::conv2d_backward_input(x.data(), w.data(), b.defined() ? &b.data() : nullptr, d);
  V in{x, w};
  if (b.defined()) in.push_back(b);
  return record("conv_transpose2d", std::move(y), std::move(in), [g](const BackwardCtx& c) {
    const Var &gy = c.grad_out, &x = c.in[0], &w = c.in[1];
    const ConvGeometry g0 = without_output_padding(g);
    V r(c.in.size());
    if (c.needs[0]) r[0] = conv2d(gy, w, Var(), g0);
    if (c.needs[1]) r[1] = conv2d_weight(gy, x, {w.shape()[2], w.shape()[3]}, g0);
    if (c.in.size() > 2 && c.needs[2]) r[2] = bias_grad(gy);
    return r;
  });
}

Var conv2d_weight(const Var& x0, const Var& gy0, Pair kernel, const ConvGeometry& g) {
  check_batch(x0, "conv2d_weight", "an input");
  check_batch(gy0, "conv2d_weight", "an output gradient");
  Var x = x0, gy = gy0, none;
  promote(x, gy, none);
  const Shape wshape{gy.shape()[1], x.shape()[1], kernel[0], kernel[1]};
  Shape o = conv2d_out_shape(image_shape(x.shape()), wshape, g, "conv2d_weight");
  if (gy.shape()[0] != x.shape()[0] || gy.shape()[2] != o[1] || gy.shape()[3] != o[2])
    throw ValueError("conv2d_weight: output gradient of shape " + shape_str(gy.shape()) +
                     " does not fit input " + shape_str(x.shape()) + " (expected (" +
                     std::to_string(x.shape()[0]) + ", " + std::to_string(o[0]) + ", " +
                     std::to_string(o[1]) + ", " + std::to_string(o[2]) + "))");
  Tensor dw = kernels::conv2d_backward_weight(x.data(), gy.data(), dims(x.shape(), kernel, gy.shape(), g));
  return record("conv2d_weight", std::move(dw), {x, gy}, [g](const BackwardCtx& c) {
    const Var &gw = c.grad_out, &x = c.in[0], &gy = c.in[1];
    V r(2);
    if (c.needs[0]) r[0] = conv_transpose2d(gy, gw, Var(), recovering(g, x.shape(), gy.shape(), gw.shape()));
    if (c.needs[1]) r[1] = conv2d(x, gw, Var(), g);
    return r;
  });
}

}  // namespace cgan::ops
