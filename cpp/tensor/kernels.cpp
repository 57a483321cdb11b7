#include "kernels.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "bf16_gemm.hpp"
#include "precision.hpp"
#include "reduce_kernels.hpp"
#include "sgemm.hpp"

namespace cgan::kernels {

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  if (n > 4) throw ValueError(std::string(op) + ": tensors have at most 4 axes");
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ValueError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                       " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::array<int64_t, 4> pad4(const Shape& out) {
  std::array<int64_t, 4> d{1, 1, 1, 1};
  size_t off = 4 - out.size();
  for (size_t i = 0; i < out.size(); ++i) d[off + i] = out[i];
  return d;
}

std::array<int64_t, 4> broadcast_strides(const Shape& s, const Shape& out) {
  auto d = pad4(out);
  std::array<int64_t, 4> dims{1, 1, 1, 1};
  size_t off = 4 - s.size();
  for (size_t i = 0; i < s.size(); ++i) dims[off + i] = s[i];
  std::array<int64_t, 4> st{0, 0, 0, 0};
  int64_t acc = 1;
  for (int i = 3; i >= 0; --i) {
    st[i] = (dims[i] == 1 && d[i] != 1) ? 0 : acc;
    acc *= dims[i];
  }
  return st;
}

// ---- reductions ------------------------------------------------------------------

namespace {
// Sum of n values read with stride; blocks of fixed size are summed in double and the
// block sums combined in index order, so the result does not depend on thread count.
constexpr int64_t kBlock = 4096;

// Sum of f(x[i]) over n contiguous values in double, with eight interleaved partial sums
// so that the loop vectorises; the combination order is fixed, so the result is too.
template <class T, class F>
double contiguous_sum(const T* x, int64_t n, F f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += f(static_cast<double>(x[i + j]));
  double tail = 0;
  for (; i < n; ++i) tail += f(static_cast<double>(x[i]));
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Sum of f(x[i]) over all n values: blocks of kBlock summed in parallel (each piece fills
// its own entries of `part`), then the block sums added in index order.
template <class T, class F>
double blocked_sum(const T* a, int64_t n, F f) {
  int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(nb, 0.0);
  parallel_range(nb, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int64_t s = b * kBlock, e = std::min(n, s + kBlock);
      part[b] = contiguous_sum(a + s, e - s, f);
    }
  }, n);
  double s = 0;
  for (double p : part) s += p;
  return s;
}

// Lambdas rather than functions: each is its own type, so the loops above inline them.
constexpr auto identity = [](double v) { return v; };
constexpr auto square = [](double v) { return v * v; };
}  // namespace

Tensor sum_all(const Tensor& x) {
  Tensor out = Tensor::empty({}, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    out.data<T>()[0] = static_cast<T>(blocked_sum(x.data<T>(), x.numel(), identity));
  });
  return out;
}

double sum_squares(const Tensor& x) {
  // One pass, squares summed in double with the block order of sum_all.
  return dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return blocked_sum(x.data<T>(), x.numel(), square);
  });
}

Tensor sum_axis(const Tensor& x, int64_t axis, bool keepdim) {
  int64_t nd = x.ndim();
  if (axis < 0) axis += nd;
  if (axis < 0 || axis >= nd)
    throw ValueError("sum: axis out of range for shape " + shape_str(x.shape()));
  int64_t outer = 1, len = x.shape()[axis], inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int64_t i = axis + 1; i < nd; ++i) inner *= x.shape()[i];
  Shape os = x.shape();
  if (keepdim) os[axis] = 1;
  else os.erase(os.begin() + axis);
  Tensor out = Tensor::empty(os, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* o = out.data<T>();
    if (inner == 1) {
      // Row sums: each output is independent.
      parallel_range(outer, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) o[r] = static_cast<T>(contiguous_sum(a + r * len, len, identity));
      }, x.numel());
    } else {
      // Column sums: accumulate whole rows (contiguous, vectorises) in double.
      std::vector<double> acc;
      for (int64_t r = 0; r < outer; ++r) {
        acc.assign(inner, 0.0);
        const T* base = a + r * len * inner;
        for (int64_t k = 0; k < len; ++k) {
          const T* row = base + k * inner;
          for (int64_t j = 0; j < inner; ++j) acc[j] += static_cast<double>(row[j]);
        }
        for (int64_t j = 0; j < inner; ++j) o[r * inner + j] = static_cast<T>(acc[j]);
      }
    }
  });
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (shape_numel(shape) == 1) return sum_all(x).reshape(shape);
  // The leading axes that the broadcast added and the axes it stretched from 1, summed in
  // one parallel pass (sum_axes) rather than one serial pass per axis.
  const Shape& xs = x.shape();
  const size_t lead = xs.size() - shape.size();
  std::vector<int64_t> axes;
  for (size_t i = 0; i < xs.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && xs[i] != 1)) axes.push_back(int64_t(i));
  return sum_axes(x, axes, false).reshape(shape);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor zero = Tensor::zeros(shape, x.dtype());
  return zip(zero, x, [](auto, auto b) { return b; }, "expand");
}

// ---- linear algebra ----------------------------------------------------------------

namespace {
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using CMap = Eigen::Map<const RowMat<T>>;
}  // namespace

namespace {
// op(A) @ op(B) for a small inner dimension k (the first layer of a 2-D toy GAN, the
// outer products in the last layer's backward): rank-k updates of each output row,
// vectorised over the columns. Eigen's GEMM spends more on packing than on math here.
constexpr int64_t kSmallInner = 8;

template <class T>
void matmul_small_k(const Tensor& a, const Tensor& b, bool ta, bool tb, const T* bias, Tensor& out) {
  const int64_t m = out.shape()[0], n = out.shape()[1];
  const int64_t k = ta ? a.shape()[0] : a.shape()[1];
  const T* A = a.data<T>();
  const int64_t lda = a.shape()[1];
  // op(B) as k contiguous rows of length n.
  std::vector<T> bt;
  const T* B = b.data<T>();
  if (tb) {
    bt.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t kk = 0; kk < k; ++kk) bt[kk * n + j] = B[j * k + kk];
    B = bt.data();
  }
  T* C = out.data<T>();
  // Rows are independent; each piece writes its own rows.
  parallel_range(m, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      T* __restrict crow = C + i * n;
      for (int64_t j = 0; j < n; ++j) crow[j] = bias ? bias[j] : T(0);
      for (int64_t kk = 0; kk < k; ++kk) {
        const T aik = ta ? A[kk * lda + i] : A[i * lda + kk];
        const T* __restrict brow = B + kk * n;
        for (int64_t j = 0; j < n; ++j) crow[j] += aik * brow[j];
      }
    }
  }, m * n * k / 4);
}

// float32 products whose output is at least this wide on both sides go to sgemm
// (OpenBLAS, or cgan's packed kernel); thinner ones (matrix-vector shapes, the last layer
// of a critic) stay with Eigen, whose GEMV path beats a 6x16-tile kernel there.
constexpr int64_t kSgemmMinSide = 16;

// Whether a product of these sizes is split over the pool: large enough to pay for the
// hand-off, and at least two rows per thread.
bool split_rows(int64_t m, int64_t n, int64_t k, int nt) {
  return nt > 1 && double(m) * double(n) * double(k) >= kParallelGemmWork && m >= 2 * nt;
}

// Whether a product of these sizes goes to sgemm (or bf16_gemm), not to the small-k loop
// or Eigen.
bool takes_sgemm(int64_t m, int64_t n, int64_t k) {
  return k > kSmallInner && m >= kSgemmMinSide && n >= kSgemmMinSide;
}

// out (m, n) = op(A) @ op(B) [+ bias] in float32 through sgemm, or with bfloat16 operands
// through bf16_gemm.
void matmul_sgemm(const Tensor& a, const Tensor& b, bool ta, bool tb, const float* bias, bool bf16,
                  Tensor& out) {
  const int64_t m = out.shape()[0], n = out.shape()[1];
  const int64_t k = ta ? a.shape()[0] : a.shape()[1];
  const int64_t lda = a.shape()[1], ldb = b.shape()[1];
  const float* A = a.data<float>();
  float* C = out.data<float>();
  // op(B) (k, n) as strides: B itself, or B (n, k) read transposed.
  const StridedF32 B{b.data<float>(), tb ? 1 : ldb, tb ? ldb : 1};
  // Rows [r0, r1) of C from the same rows of op(A), on one thread: each call is a whole
  // product, so the result does not depend on which thread runs it.
  auto rows = [&](int64_t r0, int64_t r1) {
    const StridedF32 Ar{ta ? A + r0 : A + r0 * lda, ta ? 1 : lda, ta ? lda : 1};
    float* Cr = C + r0 * n;
    if (bias)  // C starts as the bias and the product is added onto it
      for (int64_t i = 0; i < r1 - r0; ++i) std::memcpy(Cr + i * n, bias, n * sizeof(float));
    if (bf16) {
      bf16_gemm(r1 - r0, n, k, Ar, B, Cr, n, bias != nullptr);
      return;
    }
    thread_local std::vector<float> scratch;  // the packed kernel's panels (unused by OpenBLAS)
    const int64_t need = sgemm_scratch(r1 - r0, n, k);
    if (int64_t(scratch.size()) < need) scratch.resize(need);
    sgemm(r1 - r0, n, k, Ar, B, Cr, n, bias != nullptr, scratch.data());
  };
  // Large products: one row block per thread (OpenBLAS runs single-threaded inside each,
  // blas.hpp), so threads never nest and a small product never pays a fork/join.
  const int nt = get_num_threads();
  if (split_rows(m, n, k, nt)) {
    parallel_for(nt, [&](int64_t t) {
      const int64_t r0 = m * t / nt, r1 = m * (t + 1) / nt;
      if (r1 > r0) rows(r0, r1);
    });
  } else {
    rows(0, m);
  }
}

Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb, const Tensor* bias, int64_t m, int64_t n,
               int64_t k, bool bf16 = false);
}  // namespace

Tensor bf16_rounded(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), DType::f32);
  const float* src = x.data<float>();
  float* dst = y.data<float>();
  parallel_range(x.numel(), [&](int64_t b, int64_t e) { round_to_bf16(src + b, dst + b, e - b); });
  return y;
}

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, const Tensor* bias) {
  if (a.ndim() != 2 || b.ndim() != 2)
    throw ValueError("matmul: expects 2-D tensors, got shapes " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()));
  if (a.dtype() != b.dtype())
    throw TypeError(std::string("matmul: dtypes differ (") + dtype_name(a.dtype()) + " and " +
                    dtype_name(b.dtype()) + ")");
  int64_t m = ta ? a.shape()[1] : a.shape()[0], k = ta ? a.shape()[0] : a.shape()[1];
  int64_t k2 = tb ? b.shape()[1] : b.shape()[0], n = tb ? b.shape()[0] : b.shape()[1];
  if (k != k2)
    throw ValueError("matmul: inner dimensions differ: " + shape_str(a.shape()) +
                     (ta ? "^T" : "") + " @ " + shape_str(b.shape()) + (tb ? "^T" : ""));
  if (bias && (bias->dtype() != a.dtype() || bias->numel() != n))
    throw ValueError("matmul: bias must hold " + std::to_string(n) + " values of the operands' dtype");
  if (a.dtype() == DType::f32) {
    switch (get_matmul_precision()) {
      case MatmulPrecision::bf16:  // bf16_gemm rounds while it packs
        if (takes_sgemm(m, n, k)) return product(a, b, ta, tb, bias, m, n, k, true);
        [[fallthrough]];  // thin products: the same arithmetic on rounded copies
      case MatmulPrecision::bf16_emulated:
        return product(bf16_rounded(a), bf16_rounded(b), ta, tb, bias, m, n, k);
      case MatmulPrecision::float32:
        break;
    }
  }
  return product(a, b, ta, tb, bias, m, n, k);
}

namespace {
// out (m, n) = op(a) @ op(b) [+ bias] on operands matmul has checked; `bf16`: a float32
// product that takes_sgemm runs on bf16_gemm.
Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb, const Tensor* bias, int64_t m, int64_t n,
               int64_t k, bool bf16) {
  Tensor out = Tensor::empty({m, n}, a.dtype());
  if (k > 0 && k <= kSmallInner) {
    dispatch(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      matmul_small_k<T>(a, b, ta, tb, bias ? bias->data<T>() : nullptr, out);
    });
    return out;
  }
  if (a.dtype() == DType::f32 && takes_sgemm(m, n, k)) {
    matmul_sgemm(a, b, ta, tb, bias ? bias->data<float>() : nullptr, bf16, out);
    return out;
  }
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    CMap<T> A(a.data<T>(), a.shape()[0], a.shape()[1]);
    CMap<T> B(b.data<T>(), b.shape()[0], b.shape()[1]);
    Eigen::Map<RowMat<T>> C(out.data<T>(), m, n);
    // Eigen's `C = A * B` zero-fills C and then accumulates the product into it; with
    // a bias we fill C with it instead and accumulate onto that.
    auto start = [&](auto&& Cb) {
      if (bias) Cb.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias->data<T>(), n);
      else Cb.setZero();
    };
    if (k == 0) { start(C); return; }
    // Rows [r0, r0 + rn) of C from the same rows of op(A): a single-threaded Eigen GEMM.
    auto rows = [&](int64_t r0, int64_t rn) {
      auto Cb = C.middleRows(r0, rn);
      start(Cb);
      if (!ta && !tb) Cb.noalias() += A.middleRows(r0, rn) * B;
      else if (ta && !tb) Cb.noalias() += A.middleCols(r0, rn).transpose() * B;
      else if (!ta && tb) Cb.noalias() += A.middleRows(r0, rn) * B.transpose();
      else Cb.noalias() += A.middleCols(r0, rn).transpose() * B.transpose();
    };
    // We split large products into one row block per thread ourselves (Eigen's own
    // threading is compiled out): small products, the bulk of a toy GAN, then never
    // pay a fork/join, which costs a whole scheduler slice when the cores are shared.
    const int nt = get_num_threads();
    if (split_rows(m, n, k, nt)) {
      parallel_for(nt, [&](int64_t t) {
        int64_t r0 = m * t / nt, r1 = m * (t + 1) / nt;
        if (r1 > r0) rows(r0, r1 - r0);
      });
    } else {
      rows(0, m);
    }
  });
  return out;
}
}  // namespace

Tensor transpose2d(const Tensor& x) {
  if (x.ndim() != 2) throw ValueError("transpose: expects a 2-D tensor, got shape " + shape_str(x.shape()));
  int64_t r = x.shape()[0], c = x.shape()[1];
  Tensor out = Tensor::empty({c, r}, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    CMap<T> A(x.data<T>(), r, c);
    Eigen::Map<RowMat<T>> B(out.data<T>(), c, r);
    B = A.transpose();
  });
  return out;
}

// ---- batch axis --------------------------------------------------------------------

Tensor concat0(const std::vector<Tensor>& xs) {
  if (xs.empty()) throw ValueError("concat: needs at least one tensor");
  Shape s = xs[0].shape();
  if (s.empty()) throw ValueError("concat: tensors must have at least one axis");
  int64_t rows = 0;
  for (const Tensor& t : xs) {
    if (t.dtype() != xs[0].dtype()) throw TypeError("concat: all tensors must have the same dtype");
    Shape ts = t.shape();
    if (ts.size() != s.size() || !std::equal(ts.begin() + 1, ts.end(), s.begin() + 1))
      throw ValueError("concat: shapes " + shape_str(s) + " and " + shape_str(ts) +
                       " differ beyond axis 0");
    rows += ts[0];
  }
  s[0] = rows;
  Tensor out = Tensor::empty(s, xs[0].dtype());
  char* dst = static_cast<char*>(out.raw());
  for (const Tensor& t : xs) {
    if (t.nbytes()) std::memcpy(dst, t.raw(), t.nbytes());
    dst += t.nbytes();
  }
  return out;
}

Tensor slice0(const Tensor& x, int64_t begin, int64_t end) {
  if (x.ndim() < 1) throw ValueError("slice: tensor must have at least one axis");
  int64_t n = x.shape()[0];
  if (begin < 0 || end > n || begin > end)
    throw ValueError("slice: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") out of range for " + std::to_string(n) + " rows");
  Shape s = x.shape();
  s[0] = end - begin;
  Tensor out = Tensor::empty(s, x.dtype());
  size_t row = n ? x.nbytes() / n : 0;
  if (out.nbytes()) std::memcpy(out.raw(), static_cast<char*>(x.raw()) + begin * row, out.nbytes());
  return out;
}

Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& idx) {
  if (x.ndim() < 1) throw ValueError("gather_rows: tensor must have at least one axis");
  int64_t n = x.shape()[0];
  Shape s = x.shape();
  s[0] = static_cast<int64_t>(idx.size());
  Tensor out = Tensor::empty(s, x.dtype());
  size_t row = n ? x.nbytes() / n : 0;
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(out.raw());
  for (size_t k = 0; k < idx.size(); ++k) {
    if (idx[k] < 0 || idx[k] >= n) throw ValueError("gather_rows: index out of range");
    std::memcpy(dst + k * row, src + idx[k] * row, row);
  }
  return out;
}

// ---- special functions ----------------------------------------------------------------

double lambertw(double x) {
  const double em1 = -1.0 / std::exp(1.0);
  if (std::isnan(x) || x < em1) return std::numeric_limits<double>::quiet_NaN();
  if (x == em1) return -1.0;
  if (std::isinf(x)) return x;
  if (x > 1.0) return lambertw_exp(std::log(x));
  // Start near the branch point with its series, else from log1p(x); then Halley steps.
  double w = x < -0.25 ? -1.0 + std::sqrt(2.0 * (1.0 + std::exp(1.0) * x)) : std::log1p(x);
  for (int it = 0; it < 50; ++it) {
    double ew = std::exp(w), f = w * ew - x;
    double wp1 = w + 1.0;
    if (wp1 == 0.0) break;
    double step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1));
    w -= step;
    if (std::fabs(step) <= 1e-15 * (1.0 + std::fabs(w))) break;
  }
  return w;
}

double lambertw_exp(double y) {
  // Solve g(w) = w + log(w) - y = 0 for w > 0 (the W0 branch of exp(y) > 0).
  if (std::isnan(y)) return y;
  if (y == std::numeric_limits<double>::infinity()) return y;
  if (y < -30.0) return std::exp(y) * (1.0 - std::exp(y));  // W(z) = z - z^2 + ... for tiny z
  // Start from the asymptote y - log(y) for large y, else from W(z) ~ z / (1 + z).
  double w = y > 1.0 ? y - std::log(y) : std::exp(y) / (1.0 + std::exp(y));
  for (int it = 0; it < 60; ++it) {
    // Newton on g with a guard that keeps w positive; g' = 1 + 1/w.
    double g = w + std::log(w) - y;
    double step = g / (1.0 + 1.0 / w);
    double wn = w - step;
    if (wn <= 0) wn = w / 2;
    if (std::fabs(wn - w) <= 1e-15 * (1.0 + std::fabs(w))) { w = wn; break; }
    w = wn;
  }
  return w;
}

bool all_finite(const Tensor& x) {
  return dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    bool ok = true;
    for (int64_t i = 0; i < x.numel(); ++i) ok &= std::isfinite(a[i]);
    return ok;
  });
}

}  // namespace cgan::kernels
