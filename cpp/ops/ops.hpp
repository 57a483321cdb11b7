// Differentiable ops. Each is a forward kernel plus a derivative rule; the rules (all
// in ops.cpp, one table) are written with these same ops, so with create_graph the
// gradient is itself a graph and can be differentiated again.
#pragma once
#include <limits>
#include <vector>

#include "../autograd/variable.hpp"

namespace cgan::ops {

// ---- construction ------------------------------------------------------------------
Var constant(Tensor t);                 // no grad
Var scalar_like(double v, const Var& like);
Var zeros_like(const Var& x);
Var ones_like(const Var& x);
Var cast(const Var& x, DType dtype);

// ---- binary, with NumPy broadcasting and float32 -> float64 promotion -----------------
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var add(const Var& a, double b);
Var sub(const Var& a, double b);
Var rsub(double a, const Var& b);  // a - b
Var mul(const Var& a, double b);
Var div(const Var& a, double b);
Var rdiv(double a, const Var& b);  // a / b

// ---- unary (stable forms) --------------------------------------------------------------
Var neg(const Var& x);
Var exp(const Var& x);
Var log(const Var& x);
Var log1p(const Var& x);
Var sqrt(const Var& x);
Var square(const Var& x);
Var pow(const Var& x, double p);
Var abs(const Var& x);
Var clamp(const Var& x, double lo = -std::numeric_limits<double>::infinity(),
          double hi = std::numeric_limits<double>::infinity());
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var softplus(const Var& x);     // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
Var log_sigmoid(const Var& x);  // log(sigmoid(x)) = -softplus(-x)
Var relu(const Var& x);
Var leaky_relu(const Var& x, double slope = 0.01);
Var elu(const Var& x, double alpha = 1.0);
Var lambertw(const Var& x);      // principal branch W0, x >= -1/e
Var lambertw_exp(const Var& y);  // W0(e^y), finite for every y

// ---- fused derivative kernels (each with its own rule) -------------------------------
Var masked_scale(const Var& g, const Var& x, double slope);  // x > 0 ? g : slope * g
Var tanh_backward(const Var& g, const Var& y);               // g * (1 - y^2)
Var sigmoid_backward(const Var& g, const Var& y);            // g * y * (1 - y)

// ---- reductions and shape --------------------------------------------------------------
Var sum(const Var& x);                                 // all elements -> shape ()
Var sum(const Var& x, int64_t axis, bool keepdim = false);
Var mean(const Var& x);
Var mean(const Var& x, int64_t axis, bool keepdim = false);
Var sum_to(const Var& x, const Shape& shape);          // reverse of a broadcast
Var expand(const Var& x, const Shape& shape);          // broadcast to shape
Var reshape(const Var& x, const Shape& shape);
Var row_norm(const Var& x);  // per-row L2 norm of an (N, D) tensor -> (N, 1); gradient 0 at 0

// ---- linear algebra --------------------------------------------------------------------
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
Var transpose(const Var& x);
// x @ w^T + b for x (N, in), w (out, in), b (out) or undefined: one GEMM, bias fused.
Var linear(const Var& x, const Var& w, const Var& b);

// ---- batch axis ------------------------------------------------------------------------
Var concat(const std::vector<Var>& xs);  // along axis 0
Var slice(const Var& x, int64_t begin, int64_t end);  // rows [begin, end)

}  // namespace cgan::ops
