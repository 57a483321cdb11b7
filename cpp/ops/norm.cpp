// Reductions over axes, batch / layer normalisation, nearest upsampling. Forwards are
// fused kernels; each rule has a fast path (raw kernels, when no graph is being
// recorded) and a path written with differentiable ops (under create_graph), so the
// gradient can itself be differentiated.
#include "norm.hpp"

#include <cmath>

#include "../tensor/norm_kernels.hpp"
#include "../tensor/reduce_kernels.hpp"
#include "ops.hpp"

namespace cgan::ops {

using V = std::vector<Var>;

// ---- sum / mean over axes ------------------------------------------------------------

Var sum(const Var& x, const std::vector<int64_t>& axes0, bool keepdim) {
  auto axes = kernels::normalize_axes(axes0, x.data().ndim(), "sum");
  if (axes.empty()) return mul(x, 1.0);  // NumPy: a sum over no axes is a copy
  Shape kept = kernels::reduced_shape(x.shape(), axes, true);
  return record("sum_axes", kernels::sum_axes(x.data(), axes, keepdim), {x},
                [kept](const BackwardCtx& c) {
                  return V{expand(reshape(c.grad_out, kept), c.in[0].shape())};
                });
}

Var mean(const Var& x, const std::vector<int64_t>& axes0, bool keepdim) {
  auto axes = kernels::normalize_axes(axes0, x.data().ndim(), "mean");
  int64_t n = 1;
  for (int64_t a : axes) n *= x.shape()[a];
  if (n == 0) throw ValueError("mean over an empty axis (shape " + shape_str(x.shape()) + ")");
  return mul(sum(x, axes, keepdim), 1.0 / double(n));
}

namespace {

// ---- shared checks and helpers --------------------------------------------------------

DType common_dtype(std::initializer_list<const Var*> vs) {
  for (const Var* v : vs)
    if (v->defined() && v->dtype() == DType::f64) return DType::f64;
  return DType::f32;
}

void check_eps(double eps, const char* who) {
  if (!(eps > 0) || !std::isfinite(eps))
    throw ValueError(std::string(who) + ": eps must be a positive finite number, got " +
                     std::to_string(eps));
}

void check_param(const Var& p, const Shape& want, const char* what, const char* who) {
  if (p.defined() && p.shape() != want)
    throw ValueError(std::string(who) + ": " + what + " has shape " + shape_str(p.shape()) +
                     ", expected " + shape_str(want));
}

// (N, C) or (N, C, *spatial) with at least one sample and one channel.
int64_t check_batch_input(const Var& x, const char* who) {
  const Shape& s = x.shape();
  if (s.size() < 2 || s.size() > 4)
    throw ValueError(std::string(who) + ": expected x of shape (N, C), (N, C, L) or (N, C, H, W), got " +
                     shape_str(s));
  if (x.numel() == 0)
    throw ValueError(std::string(who) + ": x is empty (shape " + shape_str(s) + ")");
  return s[1];
}

// Every axis but the channel axis 1.
std::vector<int64_t> channel_stat_axes(int64_t ndim) {
  std::vector<int64_t> a{0};
  for (int64_t i = 2; i < ndim; ++i) a.push_back(i);
  return a;
}

Shape channel_broadcast_shape(const Shape& s) {
  Shape b(s.size(), 1);
  b[1] = s[1];
  return b;
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(t.numel());
  dispatch(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < t.numel(); ++i) v[i] = double(t.data<T>()[i]);
  });
  return v;
}

Tensor from_doubles(const std::vector<double>& v, DType dt) {
  Tensor t = Tensor::empty({int64_t(v.size())}, dt);
  dispatch(dt, [&](auto tag) {
    using T = decltype(tag);
    for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = T(v[i]);
  });
  return t;
}

Var param_or(const Var& p, double fill, const Shape& shape, DType dt) {
  return p.defined() ? cast(p, dt) : constant(Tensor::full(shape, fill, dt));
}

// Gradients of y = x_hat * w + b, x_hat = (x - mean) / sqrt(var + eps) with the statistics
// over `stat_axes`, written with differentiable ops (the create_graph path).
// w_b: w in a shape that broadcasts against x; param axes: the axes summed for w and b.
V normalize_grads_graph(const BackwardCtx& c, const Var& w_b, const std::vector<int64_t>& stat_axes,
                        const std::vector<int64_t>& param_axes, double eps) {
  const Var &g = c.grad_out, &x = c.in[0];
  const Shape& wshape = c.in[1].shape();
  Var xc = sub(x, mean(x, stat_axes, true));
  Var inv = pow(add(mean(square(xc), stat_axes, true), eps), -0.5);
  Var xhat = mul(xc, inv);
  Var dx, dw, db;
  if (c.needs[0]) {
    // dx = inv * (gw - mean(gw) - x_hat * mean(gw * x_hat)), gw = g * w
    Var gw = mul(g, w_b);
    dx = mul(inv, sub(sub(gw, mean(gw, stat_axes, true)),
                      mul(xhat, mean(mul(gw, xhat), stat_axes, true))));
  }
  if (c.needs[1]) dw = reshape(sum(mul(g, xhat), param_axes, false), wshape);
  if (c.needs[2]) db = reshape(sum(g, param_axes, false), wshape);
  return V{dx, dw, db};
}

Tensor grad_in_dtype(const Var& g, DType dt) {
  return g.dtype() == dt ? g.data() : g.data().to(dt);
}

}  // namespace

// ---- batch normalisation ------------------------------------------------------------------

Var batch_norm_train(const Var& x0, const Var& w0, const Var& b0, double eps, BatchStats* stats) {
  const char* who = "batch_norm";
  const int64_t C = check_batch_input(x0, who);
  check_param(w0, {C}, "weight", who);
  check_param(b0, {C}, "bias", who);
  check_eps(eps, who);
  const int64_t count = x0.numel() / C;
  if (count < 2)
    throw ValueError(std::string(who) + ": expected more than 1 value per channel when training, "
                     "got input of shape " + shape_str(x0.shape()));
  const DType dt = common_dtype({&x0, &w0, &b0});
  Var x = cast(x0, dt), w = param_or(w0, 1.0, {C}, dt), b = param_or(b0, 0.0, {C}, dt);

  auto mean = std::make_shared<std::vector<double>>();
  std::vector<double> var;
  kernels::channel_stats(x.data(), *mean, var);
  auto inv = std::make_shared<std::vector<double>>(C);
  std::vector<double> wv = to_doubles(w.data()), bv = to_doubles(b.data()), scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    (*inv)[c] = 1.0 / std::sqrt(var[c] + eps);
    scale[c] = wv[c] * (*inv)[c];
    shift[c] = bv[c] - (*mean)[c] * scale[c];
  }
  Tensor y = kernels::channel_affine(x.data(), scale, shift);
  if (stats) {
    stats->mean = from_doubles(*mean, dt);
    stats->var = from_doubles(var, dt);
  }
  const int64_t nd = x.data().ndim();
  return record("batch_norm", std::move(y), {x, w, b}, [mean, inv, eps, count, nd](const BackwardCtx& c) {
    const auto axes = channel_stat_axes(nd);
    if (grad_enabled()) {
      Var w_b = reshape(c.in[1], channel_broadcast_shape(c.in[0].shape()));
      return normalize_grads_graph(c, w_b, axes, axes, eps);
    }
    // No graph wanted: two passes over g and x.
    //   dx = w inv (g - sum(g)/n) - w inv^3 (x - mean) sum(g (x - mean)) / n
    const Tensor& x = c.in[0].data();
    const DType dt = x.dtype();
    Tensor g = grad_in_dtype(c.grad_out, dt);
    std::vector<double> sg, sgx;
    kernels::channel_grad_sums(g, x, *mean, sg, sgx);
    const int64_t C = int64_t(sg.size());
    const double n = double(count);
    V out(3);
    if (c.needs[0]) {
      std::vector<double> w = to_doubles(c.in[1].data()), a(C), bb(C), k(C);
      for (int64_t i = 0; i < C; ++i) {
        const double iv = (*inv)[i];
        a[i] = w[i] * iv;
        bb[i] = -w[i] * iv * sg[i] / n;
        k[i] = -w[i] * iv * iv * iv * sgx[i] / n;
      }
      out[0] = constant(kernels::channel_grad_input(g, x, *mean, a, bb, k));
    }
    if (c.needs[1]) {
      std::vector<double> dw(C);
      for (int64_t i = 0; i < C; ++i) dw[i] = sgx[i] * (*inv)[i];
      out[1] = constant(from_doubles(dw, dt));
    }
    if (c.needs[2]) out[2] = constant(from_doubles(sg, dt));
    return out;
  });
}

Var channel_affine(const Var& x0, const Var& scale0, const Var& shift0) {
  const int64_t C = check_batch_input(x0, "channel_affine");
  check_param(scale0, {C}, "scale", "channel_affine");
  check_param(shift0, {C}, "shift", "channel_affine");
  const DType dt = common_dtype({&x0, &scale0, &shift0});
  Var x = cast(x0, dt), scale = cast(scale0, dt), shift = cast(shift0, dt);
  Tensor y = kernels::channel_affine(x.data(), to_doubles(scale.data()), to_doubles(shift.data()));
  return record("channel_affine", std::move(y), {x, scale, shift}, [](const BackwardCtx& c) {
    const auto axes = channel_stat_axes(c.in[0].data().ndim());
    const Var& g = c.grad_out;
    return V{c.needs[0] ? channel_affine(g, c.in[1], zeros_like(c.in[2])) : Var(),
             c.needs[1] ? sum(mul(g, c.in[0]), axes, false) : Var(),
             c.needs[2] ? sum(g, axes, false) : Var()};
  });
}

Var batch_norm_eval(const Var& x0, const Tensor& running_mean, const Tensor& running_var,
                    const Var& w0, const Var& b0, double eps) {
  const char* who = "batch_norm";
  const int64_t C = check_batch_input(x0, who);
  check_param(w0, {C}, "weight", who);
  check_param(b0, {C}, "bias", who);
  if (!running_mean.defined() || !running_var.defined())
    throw ValueError(std::string(who) + ": eval mode needs running_mean and running_var");
  check_param(Var(running_mean), {C}, "running_mean", who);
  check_param(Var(running_var), {C}, "running_var", who);
  check_eps(eps, who);
  const DType dt = common_dtype({&x0, &w0, &b0});
  // scale = w / sqrt(running_var + eps), shift = b - running_mean * scale: differentiable in
  // w and b; the running statistics are constants.
  std::vector<double> rv = to_doubles(running_var), inv(C);
  for (int64_t c = 0; c < C; ++c) inv[c] = 1.0 / std::sqrt(rv[c] + eps);
  Var scale = constant(from_doubles(inv, dt));
  if (w0.defined()) scale = mul(cast(w0, dt), scale);
  Var shift = neg(mul(constant(running_mean.to(dt)), scale));
  if (b0.defined()) shift = add(cast(b0, dt), shift);
  return channel_affine(cast(x0, dt), scale, shift);
}

// ---- layer normalisation ---------------------------------------------------------------------

namespace {

// J(x) h: the input gradient of layer_norm without affine for output gradient h, per row of
// the last D values; J is x_hat's Jacobian. As an op of its own (rather than composed of
// means and products), the double backward of a gradient penalty through a layer norm is
// two fused passes. J is symmetric, so the rule for h is this op again.
Var layer_norm_input_grad(const Var& h0, const Var& x, int64_t k, int64_t D, double eps) {
  Var h = cast(h0, x.dtype());
  auto row_mean = std::make_shared<std::vector<double>>();
  auto row_inv = std::make_shared<std::vector<double>>();
  kernels::row_stats(x.data(), D, eps, *row_mean, *row_inv);
  Tensor y = kernels::row_normalize_backward(h.data(), x.data(), D, nullptr, *row_mean, *row_inv, nullptr);
  return record("layer_norm_input_grad", std::move(y), {h, x}, [row_mean, row_inv, k, D, eps](const BackwardCtx& c) {
    const Var &u = c.grad_out, &h = c.in[0], &x = c.in[1];
    V out(2);
    if (c.needs[0]) out[0] = layer_norm_input_grad(u, x, k, D, eps);
    if (!c.needs[1]) return out;
    if (!grad_enabled()) {
      out[1] = constant(kernels::row_normalize_second(grad_in_dtype(u, x.dtype()), h.data(), x.data(),
                                                      D, *row_mean, *row_inv));
      return out;
    }
    // Third order: the same formula (norm_kernels.hpp) written with differentiable ops.
    std::vector<int64_t> axes;
    for (int64_t i = x.data().ndim() - k; i < x.data().ndim(); ++i) axes.push_back(i);
    Var xc = sub(x, mean(x, axes, true));
    Var r = pow(add(mean(square(xc), axes, true), eps), -0.5);
    Var U = mean(u, axes, true), H = mean(h, axes, true);
    Var Uh = mean(mul(u, h), axes, true), Ux = mean(mul(u, xc), axes, true), s = mean(mul(h, xc), axes, true);
    Var kx = add(sub(mul(mul(square(r), mul(s, Ux)), 3.0), Uh), mul(U, H));
    Var inner = sub(sub(mul(kx, xc), mul(s, sub(u, U))), mul(Ux, sub(h, H)));
    out[1] = mul(pow(r, 3.0), inner);
    return out;
  });
}

}  // namespace

Var layer_norm(const Var& x0, int64_t k, const Var& w0, const Var& b0, double eps) {
  const char* who = "layer_norm";
  const Shape& s = x0.shape();
  const int64_t nd = int64_t(s.size());
  if (k < 1 || k > nd)
    throw ValueError(std::string(who) + ": cannot normalise the last " + std::to_string(k) +
                     " axes of x of shape " + shape_str(s));
  const Shape tail(s.end() - k, s.end());
  check_param(w0, tail, "weight", who);
  check_param(b0, tail, "bias", who);
  check_eps(eps, who);
  const int64_t D = shape_numel(tail);
  if (x0.numel() == 0) throw ValueError(std::string(who) + ": x is empty (shape " + shape_str(s) + ")");
  const DType dt = common_dtype({&x0, &w0, &b0});
  const bool has_w = w0.defined(), has_b = b0.defined();
  Var x = cast(x0, dt), w = param_or(w0, 1.0, tail, dt), b = param_or(b0, 0.0, tail, dt);

  auto mean = std::make_shared<std::vector<double>>();
  auto inv = std::make_shared<std::vector<double>>();
  Tensor y = kernels::row_normalize(x.data(), D, has_w ? &w.data() : nullptr,
                                    has_b ? &b.data() : nullptr, eps, *mean, *inv);
  return record("layer_norm", std::move(y), {x, w, b}, [mean, inv, eps, k, D, has_w](const BackwardCtx& c) {
    const int64_t nd = c.in[0].data().ndim();
    std::vector<int64_t> stat_axes, param_axes;
    for (int64_t i = 0; i < nd; ++i) (i < nd - k ? param_axes : stat_axes).push_back(i);
    if (grad_enabled()) {  // the gradients as differentiable ops, for double backward
      const Var &g = c.grad_out, &xv = c.in[0];
      const Shape& wshape = c.in[1].shape();
      V out(3);
      if (c.needs[0]) out[0] = layer_norm_input_grad(has_w ? mul(g, c.in[1]) : g, xv, k, D, eps);
      if (c.needs[1])
        out[1] = reshape(sum(mul(g, layer_norm(xv, k, Var(), Var(), eps)), param_axes, false), wshape);
      if (c.needs[2]) out[2] = reshape(sum(g, param_axes, false), wshape);
      return out;
    }
    const Tensor& x = c.in[0].data();
    Tensor g = grad_in_dtype(c.grad_out, x.dtype());
    Tensor g_xhat;
    V out(3);
    Tensor dx = kernels::row_normalize_backward(g, x, D, has_w ? &c.in[1].data() : nullptr, *mean,
                                                *inv, c.needs[1] ? &g_xhat : nullptr);
    if (c.needs[0]) out[0] = constant(dx);
    const int64_t M = x.numel() / D;
    const Shape& wshape = c.in[1].shape();
    if (c.needs[1]) out[1] = constant(kernels::sum_axes(g_xhat.reshape({M, D}), {0}, false).reshape(wshape));
    if (c.needs[2]) out[2] = constant(kernels::sum_axes(g.reshape({M, D}), {0}, false).reshape(wshape));
    return out;
  });
}

// ---- nearest upsampling and its adjoint -------------------------------------------------------

namespace {
void check_image(const Var& x, int64_t sh, int64_t sw, const char* who) {
  if (x.data().ndim() != 4)
    throw ValueError(std::string(who) + ": expected x of shape (N, C, H, W), got " + shape_str(x.shape()));
  if (sh < 1 || sw < 1)
    throw ValueError(std::string(who) + ": scale factors must be >= 1, got (" + std::to_string(sh) +
                     ", " + std::to_string(sw) + ")");
}
}  // namespace

Var upsample_nearest(const Var& x, int64_t sh, int64_t sw) {
  check_image(x, sh, sw, "upsample_nearest");
  if (double(x.numel()) * double(sh) * double(sw) > double(int64_t(1) << 40))
    throw ValueError("upsample_nearest: output of " + shape_str(x.shape()) + " scaled by (" +
                     std::to_string(sh) + ", " + std::to_string(sw) + ") is too large");
  return record("upsample_nearest", kernels::upsample_nearest(x.data(), sh, sw), {x},
                [sh, sw](const BackwardCtx& c) { return V{block_sum(c.grad_out, sh, sw)}; });
}

Var block_sum(const Var& x, int64_t sh, int64_t sw) {
  check_image(x, sh, sw, "block_sum");
  if (x.shape()[2] % sh != 0 || x.shape()[3] % sw != 0)
    throw ValueError("block_sum: height and width of " + shape_str(x.shape()) +
                     " must be multiples of the scales (" + std::to_string(sh) + ", " +
                     std::to_string(sw) + ")");
  return record("block_sum", kernels::block_sum(x.data(), sh, sw), {x},
                [sh, sw](const BackwardCtx& c) { return V{upsample_nearest(c.grad_out, sh, sw)}; });
}

}  // namespace cgan::ops
