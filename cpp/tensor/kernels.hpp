// Raw math on Tensors, with no graph: elementwise maps, NumPy-style broadcasting,
// deterministic reductions, GEMM through Eigen views. The differentiable ops in
// cpp/ops/ are written on top of these.
#pragma once
#include <array>

#include "parallel.hpp"
#include "tensor.hpp"

namespace cgan::kernels {

// ---- elementwise ----------------------------------------------------------------

// y[i] = f(x[i]); f is a generic lambda called with float or double.
template <class F>
Tensor map(const Tensor& x, F f) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* __restrict a = x.data<T>();
    T* __restrict out = y.data<T>();
    parallel_range(x.numel(), [&](int64_t b, int64_t e) {
      auto fn = f;  // a local copy: the compiler can see no store aliases its captures
      for (int64_t i = b; i < e; ++i) out[i] = fn(a[i]);
    });
  });
  return y;
}

// The shape two shapes broadcast to (NumPy rules); throws ValueError naming `op`.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);

// Strides (in elements) that read `s` as if it had shape `out` (0 on broadcast axes),
// padded on the left to 4 axes.
std::array<int64_t, 4> broadcast_strides(const Shape& s, const Shape& out);
std::array<int64_t, 4> pad4(const Shape& out);

// out[i] = f(a[i], b[i]) with broadcasting; a and b must have the same dtype.
template <class F>
Tensor zip(const Tensor& a, const Tensor& b, F f, const char* op) {
  if (a.dtype() != b.dtype())
    throw TypeError(std::string(op) + ": dtypes differ (" + dtype_name(a.dtype()) + " and " +
                    dtype_name(b.dtype()) + ")");
  Shape os = a.shape() == b.shape() ? a.shape() : broadcast_shape(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(os, a.dtype());
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = a.data<T>();
    const T* y = b.data<T>();
    T* o = out.data<T>();
    int64_t n = out.numel();
    if (a.numel() == n && b.numel() == n) {  // same shape: one flat loop
      parallel_range(n, [&](int64_t s, int64_t e) {
        const T* __restrict xr = x;
        const T* __restrict yr = y;
        T* __restrict orr = o;
        auto fn = f;  // local copy: no store can alias its captures
        for (int64_t i = s; i < e; ++i) orr[i] = fn(xr[i], yr[i]);
      });
    } else if (b.numel() == 1) {  // tensor with scalar
      const T yv = y[0];
      parallel_range(n, [&](int64_t s, int64_t e) {
        const T* __restrict xr = x;
        T* __restrict orr = o;
        auto fn = f;
        for (int64_t i = s; i < e; ++i) orr[i] = fn(xr[i], yv);
      });
    } else if (a.numel() == 1) {
      const T xv = x[0];
      parallel_range(n, [&](int64_t s, int64_t e) {
        const T* __restrict yr = y;
        T* __restrict orr = o;
        auto fn = f;
        for (int64_t i = s; i < e; ++i) orr[i] = fn(xv, yr[i]);
      });
    } else {  // general broadcast over (up to) 4 axes
      auto d = pad4(os);
      auto sa = broadcast_strides(a.shape(), os);
      auto sb = broadcast_strides(b.shape(), os);
      int64_t outer = d[0] * d[1] * d[2];
      auto body = [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          int64_t i0 = r / (d[1] * d[2]), i1 = (r / d[2]) % d[1], i2 = r % d[2];
          const T* xa = x + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
          const T* yb = y + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
          T* orow = o + r * d[3];
          for (int64_t j = 0; j < d[3]; ++j) orow[j] = f(xa[j * sa[3]], yb[j * sb[3]]);
        }
      };
      parallel_range(outer, body, n);
    }
  });
  return out;
}

// ---- reductions (fixed summation order: bitwise repeatable) ------------------------

Tensor sum_all(const Tensor& x);                              // shape ()
double sum_squares(const Tensor& x);                          // sum of x^2, in double
Tensor sum_axis(const Tensor& x, int64_t axis, bool keepdim);  // one axis
Tensor sum_to(const Tensor& x, const Shape& shape);            // undo a broadcast
Tensor expand(const Tensor& x, const Shape& shape);            // broadcast to shape

// ---- linear algebra --------------------------------------------------------------

// op(a) @ op(b) for 2-D tensors, op = transpose when the flag is set. No copies:
// Eigen reads the row-major storage through (transposed) maps. With `bias` (n values,
// same dtype) every output row starts from it and the product accumulates onto it:
// x @ W^T + b without the zero fill and the separate bias pass.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
              const Tensor* bias = nullptr);
// A float32 copy of x with every value rounded to bfloat16 (the operands of
// "bf16-emulated" products and convolutions).
Tensor bf16_rounded(const Tensor& x);
Tensor transpose2d(const Tensor& x);

// ---- batch axis ------------------------------------------------------------------

Tensor concat0(const std::vector<Tensor>& xs);               // along axis 0
Tensor slice0(const Tensor& x, int64_t begin, int64_t end);  // rows [begin, end)
// Rows x[idx[k]] for k in order (minibatch gathering).
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& idx);

// ---- special functions ------------------------------------------------------------

// Principal branch W0 of the Lambert W function, for x >= -1/e (NaN below).
double lambertw(double x);
// W0(exp(y)) without forming exp(y): solves w + log(w) = y. Finite for every y.
double lambertw_exp(double y);

// ---- checks ------------------------------------------------------------------------

bool all_finite(const Tensor& x);

}  // namespace cgan::kernels
