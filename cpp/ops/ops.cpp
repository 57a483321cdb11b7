// Every op: forward with a raw kernel, then its derivative rule written with ops.
// Rule notation: g = gradient of the output, y = the output, a/b/x = the inputs.
#include "ops.hpp"

#include <Eigen/Core>
#include <cmath>
#include <limits>

#include "../tensor/kernels.hpp"

namespace cgan::ops {

using kernels::map;
using kernels::zip;
using V = std::vector<Var>;

namespace {
// Promote mixed float32/float64 operands to float64 (NumPy's rule for these two).
std::pair<Var, Var> promote(const Var& a, const Var& b) {
  if (a.dtype() == b.dtype()) return {a, b};
  if (a.dtype() == DType::f32) return {cast(a, DType::f64), b};
  return {a, cast(b, DType::f64)};
}
// A constant 0/1 tensor: 1 where pred(x) holds.
template <class P>
Var mask(const Var& x, P pred) {
  return constant(map(x.data(), [&](auto v) { return decltype(v)(pred(v) ? 1 : 0); }));
}
// As mask, but NaN where x is NaN: the derivative of a piecewise rule at a NaN input is
// undefined, and a 0 there would hide the NaN from everything upstream.
template <class P>
Var nan_mask(const Var& x, P pred) {
  return constant(map(x.data(), [&](auto v) {
    using T = decltype(v);
    return std::isnan(v) ? v : T(pred(v) ? 1 : 0);
  }));
}
// A slope or scale of an activation: finite, and finite in the tensor's dtype too
// (float32 would turn 1e308 into inf, and inf * 0 into NaN), as torch requires.
void check_coefficient(const char* op, const char* what, double v, DType dtype) {
  bool fits = std::isfinite(v) && (dtype == DType::f64 || std::isfinite(float(v)));
  if (!fits)
    throw ValueError(std::string(op) + ": " + what + " must be a finite number" +
                     (dtype == DType::f32 && std::isfinite(v) ? " within float32's range" : "") +
                     ", got " + std::to_string(v));
}
template <class T> T sigmoid_of(T v) {
  // Stable both ways: never exp of a large positive number.
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  T e = std::exp(v);
  return e / (T(1) + e);
}
template <class T> T softplus_of(T v) { return std::max(v, T(0)) + std::log1p(std::exp(-std::fabs(v))); }
}  // namespace

// ---- construction ------------------------------------------------------------------------

Var constant(Tensor t) { return Var(std::move(t), false); }
Var scalar_like(double v, const Var& like) { return constant(Tensor::scalar(v, like.dtype())); }
Var zeros_like(const Var& x) { return constant(Tensor::zeros(x.shape(), x.dtype())); }
Var ones_like(const Var& x) { return constant(Tensor::full(x.shape(), 1.0, x.dtype())); }

Var cast(const Var& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  DType from = x.dtype();
  return record("cast", x.data().to(dtype), {x}, [from](const BackwardCtx& c) {
    return V{cast(c.grad_out, from)};
  });
}

// ---- binary ----------------------------------------------------------------------------

Var add(const Var& a0, const Var& b0) {
  auto [a, b] = promote(a0, b0);
  Tensor y = zip(a.data(), b.data(), [](auto x, auto z) { return x + z; }, "add");
  return record("add", std::move(y), {a, b}, [](const BackwardCtx& c) {
    return V{c.needs[0] ? sum_to(c.grad_out, c.in[0].shape()) : Var(),
             c.needs[1] ? sum_to(c.grad_out, c.in[1].shape()) : Var()};
  });
}

Var sub(const Var& a0, const Var& b0) {
  auto [a, b] = promote(a0, b0);
  Tensor y = zip(a.data(), b.data(), [](auto x, auto z) { return x - z; }, "sub");
  return record("sub", std::move(y), {a, b}, [](const BackwardCtx& c) {
    return V{c.needs[0] ? sum_to(c.grad_out, c.in[0].shape()) : Var(),
             c.needs[1] ? sum_to(neg(c.grad_out), c.in[1].shape()) : Var()};
  });
}

Var mul(const Var& a0, const Var& b0) {
  auto [a, b] = promote(a0, b0);
  Tensor y = zip(a.data(), b.data(), [](auto x, auto z) { return x * z; }, "mul");
  return record("mul", std::move(y), {a, b}, [](const BackwardCtx& c) {
    return V{c.needs[0] ? sum_to(mul(c.grad_out, c.in[1]), c.in[0].shape()) : Var(),
             c.needs[1] ? sum_to(mul(c.grad_out, c.in[0]), c.in[1].shape()) : Var()};
  });
}

Var div(const Var& a0, const Var& b0) {
  auto [a, b] = promote(a0, b0);
  Tensor y = zip(a.data(), b.data(), [](auto x, auto z) { return x / z; }, "div");
  return record("div", std::move(y), {a, b}, [](const BackwardCtx& c) {
    // d(a/b)/db = -a/b^2 = -y/b
    return V{c.needs[0] ? sum_to(div(c.grad_out, c.in[1]), c.in[0].shape()) : Var(),
             c.needs[1] ? sum_to(neg(mul(c.grad_out, div(c.out, c.in[1]))), c.in[1].shape())
                        : Var()};
  });
}

Var add(const Var& a, double b) { return add(a, scalar_like(b, a)); }
Var sub(const Var& a, double b) { return sub(a, scalar_like(b, a)); }
Var rsub(double a, const Var& b) { return sub(scalar_like(a, b), b); }
Var mul(const Var& a, double b) { return mul(a, scalar_like(b, a)); }
Var div(const Var& a, double b) { return div(a, scalar_like(b, a)); }
Var rdiv(double a, const Var& b) { return div(scalar_like(a, b), b); }

// ---- unary -------------------------------------------------------------------------------

Var neg(const Var& x) {
  return record("neg", map(x.data(), [](auto v) { return -v; }), {x},
                [](const BackwardCtx& c) { return V{neg(c.grad_out)}; });
}

Var exp(const Var& x) {
  return record("exp", map(x.data(), [](auto v) { return std::exp(v); }), {x},
                [](const BackwardCtx& c) { return V{mul(c.grad_out, c.out)}; });
}

Var log(const Var& x) {
  return record("log", map(x.data(), [](auto v) { return std::log(v); }), {x},
                [](const BackwardCtx& c) { return V{div(c.grad_out, c.in[0])}; });
}

Var log1p(const Var& x) {
  return record("log1p", map(x.data(), [](auto v) { return std::log1p(v); }), {x},
                [](const BackwardCtx& c) { return V{div(c.grad_out, add(c.in[0], 1.0))}; });
}

Var sqrt(const Var& x) {
  return record("sqrt", map(x.data(), [](auto v) { return std::sqrt(v); }), {x},
                [](const BackwardCtx& c) { return V{div(mul(c.grad_out, 0.5), c.out)}; });
}

Var square(const Var& x) {
  return record("square", map(x.data(), [](auto v) { return v * v; }), {x},
                [](const BackwardCtx& c) { return V{mul(c.grad_out, mul(c.in[0], 2.0))}; });
}

Var pow(const Var& x, double p) {
  if (p == 1.0) return mul(x, 1.0);
  if (p == 2.0) return square(x);
  // x^0.5 is sqrt(x), as in NumPy and torch: C's pow(-inf, 0.5) would be +inf, not NaN.
  return record("pow", map(x.data(), [p](auto v) {
                  using T = decltype(v);
                  return p == 0.5 ? std::sqrt(v) : std::pow(v, T(p));
                }), {x},
                [p](const BackwardCtx& c) {
                  if (p == 0.0) return V{zeros_like(c.in[0])};
                  return V{mul(c.grad_out, mul(pow(c.in[0], p - 1.0), p))};
                });
}

Var abs(const Var& x) {
  return record("abs", map(x.data(), [](auto v) { return std::fabs(v); }), {x},
                [](const BackwardCtx& c) {
                  // sign(x), 0 at 0, NaN at NaN; a constant, so the second derivative is 0.
                  Var sign = constant(map(c.in[0].data(), [](auto v) {
                    return std::isnan(v) ? v : decltype(v)((v > 0) - (v < 0));
                  }));
                  return V{mul(c.grad_out, sign)};
                });
}

Var clamp(const Var& x, double lo, double hi) {
  if (lo > hi) throw ValueError("clamp: min is above max");
  // As np.clip: a NaN input or a NaN bound gives NaN (max/min propagate NaN).
  const bool nan_bound = std::isnan(lo) || std::isnan(hi);
  Tensor y = map(x.data(), [lo, hi, nan_bound](auto v) {
    using T = decltype(v);
    if (nan_bound) return std::numeric_limits<T>::quiet_NaN();
    return std::isnan(v) ? v : std::min(std::max(v, T(lo)), T(hi));
  });
  return record("clamp", std::move(y), {x}, [lo, hi, nan_bound](const BackwardCtx& c) {
    if (nan_bound) return V{mul(c.grad_out, scalar_like(NAN, c.grad_out))};
    return V{mul(c.grad_out, nan_mask(c.in[0], [lo, hi](auto v) { return v >= lo && v <= hi; }))};
  });
}

namespace {
// tanh in float32 through Eigen's vectorised kernel (a few ulp, exact at the tails);
// float64 keeps std::tanh.
Tensor tanh_forward(const Tensor& x) {
  if (x.dtype() == DType::f64) return map(x, [](auto v) { return std::tanh(v); });
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  parallel_range(x.numel(), [&](int64_t b, int64_t e) {
    Eigen::Map<const Eigen::ArrayXf> in(x.data<float>() + b, e - b);
    Eigen::Map<Eigen::ArrayXf> out(y.data<float>() + b, e - b);
    out = in.tanh();
  });
  return y;
}
}  // namespace

Var tanh(const Var& x) {
  return record("tanh", tanh_forward(x.data()), {x},
                [](const BackwardCtx& c) { return V{tanh_backward(c.grad_out, c.out)}; });
}

Var sigmoid(const Var& x) {
  return record("sigmoid", map(x.data(), [](auto v) { return sigmoid_of(v); }), {x},
                [](const BackwardCtx& c) { return V{sigmoid_backward(c.grad_out, c.out)}; });
}

Var softplus(const Var& x) {
  return record("softplus", map(x.data(), [](auto v) { return softplus_of(v); }), {x},
                [](const BackwardCtx& c) { return V{mul(c.grad_out, sigmoid(c.in[0]))}; });
}

Var log_sigmoid(const Var& x) {
  return record("log_sigmoid", map(x.data(), [](auto v) { return -softplus_of(-v); }), {x},
                [](const BackwardCtx& c) { return V{mul(c.grad_out, sigmoid(neg(c.in[0])))}; });
}

Var relu(const Var& x) {
  // `v < 0 ? 0 : v` keeps NaN (np.maximum(x, 0) does); `v > 0 ? v : 0` made it 0.
  return record("relu", map(x.data(), [](auto v) { return v < 0 ? decltype(v)(0) : v; }), {x},
                [](const BackwardCtx& c) { return V{masked_scale(c.grad_out, c.in[0], 0.0)}; });
}

Var leaky_relu(const Var& x, double slope) {
  // Any finite slope, negative ones included (as torch's F.leaky_relu).
  check_coefficient("leaky_relu", "negative_slope", slope, x.dtype());
  Tensor y = map(x.data(), [slope](auto v) {
    using T = decltype(v);
    // A 0/1 mask: vectorises, where `v < 0 ? slope * v : v` became a branch that
    // mispredicts on random signs. NaN has mask 0 and falls through unchanged.
    const T m = T(v < 0);
    return v * (m * T(slope) + (T(1) - m));  // exactly slope * v, or v
  });
  return record("leaky_relu", std::move(y), {x}, [slope](const BackwardCtx& c) {
    return V{masked_scale(c.grad_out, c.in[0], slope)};
  });
}

Var elu(const Var& x, double alpha) {
  check_coefficient("elu", "alpha", alpha, x.dtype());
  Tensor y = map(x.data(), [alpha](auto v) {
    using T = decltype(v);
    return v > 0 ? v : T(alpha) * std::expm1(v);
  });
  return record("elu", std::move(y), {x}, [alpha](const BackwardCtx& c) {
    // x > 0: 1; else alpha e^x = y + alpha (written with y, so it differentiates again).
    Var pos = mask(c.in[0], [](auto v) { return v > 0; });
    Var nonpos = mask(c.in[0], [](auto v) { return !(v > 0); });
    return V{mul(c.grad_out, add(pos, mul(nonpos, add(c.out, alpha))))};
  });
}

Var lambertw(const Var& x) {
  Tensor y = map(x.data(), [](auto v) { return decltype(v)(kernels::lambertw(double(v))); });
  return record("lambertw", std::move(y), {x}, [](const BackwardCtx& c) {
    // W'(x) = 1 / (e^W (1 + W)), finite at x = 0 where W/(x(1+W)) is 0/0.
    return V{div(c.grad_out, mul(exp(c.out), add(c.out, 1.0)))};
  });
}

Var lambertw_exp(const Var& y0) {
  Tensor w = map(y0.data(), [](auto v) { return decltype(v)(kernels::lambertw_exp(double(v))); });
  return record("lambertw_exp", std::move(w), {y0}, [](const BackwardCtx& c) {
    // d W(e^y) / dy = W / (1 + W)
    return V{mul(c.grad_out, div(c.out, add(c.out, 1.0)))};
  });
}

// ---- fused derivative kernels ---------------------------------------------------------

Var masked_scale(const Var& g, const Var& x, double slope) {
  // Written with a 0/1 mask rather than `?:` on the values: GCC turns the latter into a
  // branch that mispredicts on random signs (30x slower); this form vectorises.
  Tensor y = zip(g.data(), x.data(),
                 [slope](auto gv, auto xv) {
                   using T = decltype(gv);
                   const T m = T(xv > 0);
                   // NaN where x is NaN (the derivative is undefined there), else 0; a
                   // select on x != x vectorises, where std::isinf made the loop scalar.
                   const T nan_or_0 = xv != xv ? xv : T(0);
                   return gv * (m + (T(1) - m) * T(slope)) + nan_or_0;
                 },
                 "masked_scale");
  return record("masked_scale", std::move(y), {g, x}, [slope](const BackwardCtx& c) {
    // Linear in g; piecewise constant in x (derivative 0 almost everywhere).
    return V{c.needs[0] ? masked_scale(c.grad_out, c.in[1], slope) : Var(), Var()};
  });
}

Var tanh_backward(const Var& g, const Var& y) {
  Tensor r = zip(g.data(), y.data(), [](auto gv, auto yv) { return gv * (1 - yv * yv); },
                 "tanh_backward");
  return record("tanh_backward", std::move(r), {g, y}, [](const BackwardCtx& c) {
    const Var &gg = c.grad_out, &g = c.in[0], &y = c.in[1];
    return V{c.needs[0] ? tanh_backward(gg, y) : Var(),
             c.needs[1] ? mul(mul(gg, g), mul(y, -2.0)) : Var()};
  });
}

Var sigmoid_backward(const Var& g, const Var& y) {
  Tensor r = zip(g.data(), y.data(), [](auto gv, auto yv) { return gv * yv * (1 - yv); },
                 "sigmoid_backward");
  return record("sigmoid_backward", std::move(r), {g, y}, [](const BackwardCtx& c) {
    const Var &gg = c.grad_out, &g = c.in[0], &y = c.in[1];
    return V{c.needs[0] ? sigmoid_backward(gg, y) : Var(),
             c.needs[1] ? mul(mul(gg, g), rsub(1.0, mul(y, 2.0))) : Var()};
  });
}

// ---- reductions and shape ----------------------------------------------------------------

Var sum(const Var& x) {
  return record("sum", kernels::sum_all(x.data()), {x},
                [](const BackwardCtx& c) { return V{expand(c.grad_out, c.in[0].shape())}; });
}

Var sum(const Var& x, int64_t axis, bool keepdim) {
  int64_t nd = x.data().ndim();
  int64_t ax = axis < 0 ? axis + nd : axis;
  if (ax < 0 || ax >= nd)
    throw ValueError("sum: axis " + std::to_string(axis) + " out of range for shape " +
                     shape_str(x.shape()));
  return record("sum_axis", kernels::sum_axis(x.data(), ax, keepdim), {x},
                [ax](const BackwardCtx& c) {
                  Shape kept = c.in[0].shape();
                  kept[ax] = 1;
                  return V{expand(reshape(c.grad_out, kept), c.in[0].shape())};
                });
}

Var mean(const Var& x) {
  if (x.numel() == 0) throw ValueError("mean of an empty tensor");
  return mul(sum(x), 1.0 / double(x.numel()));
}

Var mean(const Var& x, int64_t axis, bool keepdim) {
  int64_t n = x.data().size(axis);
  if (n == 0) throw ValueError("mean over an empty axis");
  return mul(sum(x, axis, keepdim), 1.0 / double(n));
}

Var sum_to(const Var& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return record("sum_to", kernels::sum_to(x.data(), shape), {x},
                [](const BackwardCtx& c) { return V{expand(c.grad_out, c.in[0].shape())}; });
}

Var expand(const Var& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return record("expand", kernels::expand(x.data(), shape), {x},
                [](const BackwardCtx& c) { return V{sum_to(c.grad_out, c.in[0].shape())}; });
}

Var reshape(const Var& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  // The kernels index at most 4 axes (broadcasting pads to 4); the NumPy converter
  // rejects more, and so must reshape.
  if (shape.size() > 4)
    throw ValueError("reshape: tensors have at most 4 axes, got shape " + shape_str(shape));
  return record("reshape", x.data().reshape(shape), {x},
                [](const BackwardCtx& c) { return V{reshape(c.grad_out, c.in[0].shape())}; });
}

Var row_norm(const Var& x) {
  if (x.data().ndim() != 2)
    throw ValueError("row_norm: expects an (N, D) tensor, got shape " + shape_str(x.shape()));
  Tensor sq = map(x.data(), [](auto v) { return v * v; });
  Tensor n = map(kernels::sum_axis(sq, 1, true), [](auto v) { return std::sqrt(v); });
  return record("row_norm", std::move(n), {x}, [](const BackwardCtx& c) {
    // d||x|| / dx = x / ||x||; where ||x|| = 0 the denominator is made 1, giving 0.
    Var safe = add(c.out, mask(c.out, [](auto v) { return v == 0; }));
    return V{mul(c.grad_out, div(c.in[0], safe))};
  });
}

// ---- linear algebra --------------------------------------------------------------------------

Var matmul(const Var& a0, const Var& b0, bool ta, bool tb) {
  auto [a, b] = promote(a0, b0);
  return record("matmul", kernels::matmul(a.data(), b.data(), ta, tb), {a, b},
                [ta, tb](const BackwardCtx& c) {
                  const Var &g = c.grad_out, &a = c.in[0], &b = c.in[1];
                  Var da, db;
                  if (!ta && !tb) {         // y = a b
                    if (c.needs[0]) da = matmul(g, b, false, true);
                    if (c.needs[1]) db = matmul(a, g, true, false);
                  } else if (ta && !tb) {   // y = a^T b
                    if (c.needs[0]) da = matmul(b, g, false, true);
                    if (c.needs[1]) db = matmul(a, g, false, false);
                  } else if (!ta && tb) {   // y = a b^T
                    if (c.needs[0]) da = matmul(g, b, false, false);
                    if (c.needs[1]) db = matmul(g, a, true, false);
                  } else {                  // y = a^T b^T
                    if (c.needs[0]) da = matmul(b, g, true, true);
                    if (c.needs[1]) db = matmul(g, a, true, true);
                  }
                  return V{da, db};
                });
}

Var transpose(const Var& x) {
  return record("transpose", kernels::transpose2d(x.data()), {x},
                [](const BackwardCtx& c) { return V{transpose(c.grad_out)}; });
}

Var linear(const Var& x0, const Var& w0, const Var& b) {
  auto [x, w] = promote(x0, w0);
  // A float64 bias promotes float32 x and w as well (NumPy's rule for x @ w.T + b),
  // rather than being cast down to float32.
  if (b.defined() && b.dtype() == DType::f64 && x.dtype() == DType::f32) {
    x = cast(x, DType::f64);
    w = cast(w, DType::f64);
  }
  if (x.data().ndim() != 2 || w.data().ndim() != 2 || x.shape()[1] != w.shape()[1])
    throw ValueError("linear: input of shape " + shape_str(x.shape()) +
                     " does not fit weights of shape " + shape_str(w.shape()) +
                     " (expected (N, " + std::to_string(w.data().ndim() == 2 ? w.shape()[1] : -1) +
                     "))");
  if (!b.defined()) {
    return record("linear", kernels::matmul(x.data(), w.data(), false, true), {x, w},
                  [](const BackwardCtx& c) {
                    const Var& g = c.grad_out;
                    return V{c.needs[0] ? matmul(g, c.in[1]) : Var(),
                             c.needs[1] ? matmul(g, c.in[0], true) : Var()};
                  });
  }
  Var bb = cast(b, x.dtype());
  if (bb.data().ndim() != 1 || bb.shape()[0] != w.shape()[0])
    throw ValueError("linear: bias of shape " + shape_str(bb.shape()) + " does not fit " +
                     std::to_string(w.shape()[0]) + " outputs");
  // The product accumulates onto rows that start as the bias: one pass over y.
  Tensor y = kernels::matmul(x.data(), w.data(), false, true, &bb.data());
  return record("linear", std::move(y), {x, w, bb}, [](const BackwardCtx& c) {
    const Var &g = c.grad_out;
    return V{c.needs[0] ? matmul(g, c.in[1]) : Var(),            // (N,out)@(out,in)
             c.needs[1] ? matmul(g, c.in[0], true) : Var(),      // (out,N)@(N,in)
             c.needs[2] ? sum(g, 0) : Var()};                    // (out,)
  });
}

// ---- batch axis ----------------------------------------------------------------------------

Var concat(const std::vector<Var>& xs) {
  if (xs.empty()) throw ValueError("concat: needs at least one tensor");
  std::vector<Var> ys;
  DType dt = xs[0].dtype();
  for (const Var& x : xs) if (x.dtype() == DType::f64) dt = DType::f64;
  std::vector<Tensor> ts;
  for (const Var& x : xs) {
    ys.push_back(cast(x, dt));
    ts.push_back(ys.back().data());
  }
  return record("concat", kernels::concat0(ts), ys, [](const BackwardCtx& c) {
    V gs;
    int64_t off = 0;
    for (size_t i = 0; i < c.in.size(); ++i) {
      int64_t n = c.in[i].shape()[0];
      gs.push_back(c.needs[i] ? slice(c.grad_out, off, off + n) : Var());
      off += n;
    }
    return gs;
  });
}

Var slice(const Var& x, int64_t begin, int64_t end) {
  return record("slice", kernels::slice0(x.data(), begin, end), {x},
                [begin, end](const BackwardCtx& c) {
                  // Zero rows around g: concat keeps it differentiable in g.
                  const Var& in = c.in[0];
                  Shape before = in.shape(), after = in.shape();
                  before[0] = begin;
                  after[0] = in.shape()[0] - end;
                  return V{concat({constant(Tensor::zeros(before, in.dtype())), c.grad_out,
                                   constant(Tensor::zeros(after, in.dtype()))})};
                });
}

}  // namespace cgan::ops
