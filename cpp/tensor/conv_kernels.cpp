#include "conv_kernels.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <type_traits>
#include <vector>

#include "bf16_gemm.hpp"
#include "kernels.hpp"
#include "parallel.hpp"
#include "precision.hpp"
#include "sgemm.hpp"

namespace cgan::kernels {

namespace {
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Map = Eigen::Map<RowMat<T>>;
template <class T>
using CMap = Eigen::Map<const RowMat<T>>;

// ---- im2col / col2im ----------------------------------------------------------------
// Column matrix of one image: row (ci, i, j) (ck rows), column (oh, ow) (ho wo columns),
// entry x[ci, oh sh + i - ph, ow sw + j - pw], 0 where that falls in the padding.
//
// Both directions work on a padded copy of the image's planes, (c, h + 2 ph, w + 2 pw)
// with zero borders: every patch pixel then exists, so a row of the column matrix is
// one branch-free gather (and col2im one branch-free scatter-add) through a table of
// offsets. The geometry is the same for every channel and image, so the table is worked
// out once per call: for each kernel offset (i, j) and output position (oh, ow), the
// offset of the patch pixel in a padded plane. (A per-pixel "inside?" test instead cost
// a mispredicted branch at every border pixel of these small 7x7 / 14x14 images.)
struct Padded {
  int64_t hp, wp;
  int64_t plane() const { return hp * wp; }
};
Padded padded(const ConvDims& d) { return {d.h + 2 * d.ph, d.w + 2 * d.pw}; }

std::vector<int32_t> patch_offsets(const ConvDims& d) {
  const int64_t L = d.l(), wp = padded(d).wp;
  std::vector<int32_t> off(static_cast<size_t>(d.kh * d.kw * L));
  for (int64_t i = 0; i < d.kh; ++i)
    for (int64_t j = 0; j < d.kw; ++j) {
      int32_t* o = off.data() + (i * d.kw + j) * L;
      for (int64_t oh = 0; oh < d.ho; ++oh)
        for (int64_t ow = 0; ow < d.wo; ++ow)  // (ih + ph, iw + pw) lies inside the padded plane
          o[oh * d.wo + ow] = static_cast<int32_t>((oh * d.sh + i) * wp + ow * d.sw + j);
    }
  return off;
}

// xp (c, hp, wp) interior <- x (c, h, w). The borders are left as they are: zero, from
// the scratch buffer's one-time fill, since nothing else writes there.
template <class T>
void pad_image(const T* __restrict x, const ConvDims& d, T* __restrict xp) {
  const Padded pd = padded(d);
  for (int64_t ci = 0; ci < d.c; ++ci)
    for (int64_t ih = 0; ih < d.h; ++ih)
      std::copy(x + (ci * d.h + ih) * d.w, x + (ci * d.h + ih + 1) * d.w,
                xp + ci * pd.plane() + (ih + d.ph) * pd.wp + d.pw);
}

// cols (ck, ld; the image's ho wo columns come first) = the column matrix of the padded
// image xp (c, hp, wp). Writes every entry, so the buffer needs no zero fill.
template <class T>
void im2col(const T* __restrict xp, const ConvDims& d, const int32_t* __restrict off,
            T* __restrict cols, int64_t ld) {
  const int64_t L = d.l(), kk = d.kh * d.kw, plane = padded(d).plane();
  for (int64_t ci = 0; ci < d.c; ++ci) {
    const T* xc = xp + ci * plane;
    for (int64_t q = 0; q < kk; ++q) {
      T* __restrict r = cols + (ci * kk + q) * ld;
      const int32_t* o = off + q * L;
      for (int64_t l = 0; l < L; ++l) r[l] = xc[o[l]];
    }
  }
}

// x (c, h, w) = start[ci] + the image that the column matrix cols (ck, ld) scatters to
// (the adjoint of im2col), summed in the padded buffer xp (c, hp, wp), whose borders
// collect the padding's share and are dropped. Each pixel starts from start[ci] (0
// without a bias) and adds its terms in (ci, q, l) order: repeatable sums.
template <class T>
void col2im(const T* __restrict cols, const ConvDims& d, const int32_t* __restrict off,
            int64_t ld, const T* start, T* __restrict xp, T* __restrict x) {
  const Padded pd = padded(d);
  const int64_t L = d.l(), kk = d.kh * d.kw;
  for (int64_t ci = 0; ci < d.c; ++ci) {
    T* xc = xp + ci * pd.plane();
    std::fill(xc, xc + pd.plane(), start ? start[ci] : T(0));
    for (int64_t q = 0; q < kk; ++q) {
      const T* __restrict r = cols + (ci * kk + q) * ld;
      const int32_t* __restrict o = off + q * L;
      for (int64_t l = 0; l < L; ++l) xc[o[l]] += r[l];  // one kernel offset: distinct pixels
    }
    for (int64_t ih = 0; ih < d.h; ++ih)
      std::copy(xc + (ih + d.ph) * pd.wp + d.pw, xc + (ih + d.ph) * pd.wp + d.pw + d.w,
                x + (ci * d.h + ih) * d.w);
  }
}

// Columns per GEMM that images_per_block aims for.
constexpr int64_t kBlockColumns = 256;

// ---- splitting the batch -------------------------------------------------------------

// Contiguous image ranges [begin, end) of the batch, one per piece. Parallel over images
// because images are independent and each is a whole GEMM: a piece needs no
// synchronisation beyond its own column buffer. Small problems stay on one piece.
struct Pieces {
  int64_t count;
  int64_t n;
  int64_t begin(int64_t p) const { return n * p / count; }
  int64_t end(int64_t p) const { return n * (p + 1) / count; }
};
Pieces image_pieces(const ConvDims& d, int64_t per_thread) {
  const int nt = get_num_threads();
  const double work = double(d.n) * double(d.o) * double(d.ck()) * double(d.l());
  if (nt == 1 || d.n < 2 || work < kParallelGemmWork) return {1, d.n};
  return {std::min<int64_t>(d.n, per_thread * nt), d.n};
}

// body(p) for every piece, on the pool when there is more than one.
template <class F>
void run_pieces(const Pieces& pc, F&& body) {
  if (pc.count == 1) {
    body(0);
    return;
  }
  parallel_for(pc.count, [&](int64_t p) { body(p); });
}

// ---- GEMM on strided operands ----------------------------------------------------------
// C (m, n; leading dimension ldc) [+]= A @ B, A(i, p) = a[i rs + p cs], one of the strides 1.
// float32 goes to the packed AVX2 kernel (sgemm.cpp); float64 to Eigen.

template <class T>
int64_t gemm_scratch(int64_t m, int64_t n, int64_t k) {
  return std::is_same<T, float>::value ? sgemm_scratch(m, n, k) : 0;
}

// "bf16" products on the bfloat16 kernel; "bf16-emulated" ones get operands the entry
// points below have rounded already.
void gemm(int64_t m, int64_t n, int64_t k, StridedF32 a, StridedF32 b, float* c, int64_t ldc,
          bool accumulate, float* scratch) {
  if (kernels::get_matmul_precision() == kernels::MatmulPrecision::bf16) {
    kernels::bf16_gemm(m, n, k, a, b, c, ldc, accumulate);
    return;
  }
  sgemm(m, n, k, a, b, c, ldc, accumulate, scratch);
}

struct StridedF64 {
  const double* p;
  int64_t rs, cs;
};

// The Eigen view of a strided operand: row-major when its columns are contiguous,
// column-major (a transposed read) otherwise.
template <class F>
void with_view(const StridedF64& s, int64_t rows, int64_t cols, F f) {
  using RM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  if (s.cs == 1) f(Eigen::Map<const RM, 0, Eigen::OuterStride<>>(s.p, rows, cols, Eigen::OuterStride<>(s.rs)));
  else f(Eigen::Map<const CM, 0, Eigen::OuterStride<>>(s.p, rows, cols, Eigen::OuterStride<>(s.cs)));
}

void gemm(int64_t m, int64_t n, int64_t k, StridedF64 a, StridedF64 b, double* c, int64_t ldc,
          bool accumulate, double*) {
  using RM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<RM, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (!accumulate) C.setZero();
  if (k == 0) return;
  with_view(a, m, k, [&](const auto& A) { with_view(b, k, n, [&](const auto& B) { C.noalias() += A * B; }); });
}

template <class T>
using Strided = std::conditional_t<std::is_same<T, float>::value, StridedF32, StridedF64>;

// ---- the three kernels ---------------------------------------------------------------

// Images per GEMM: with small outputs (7x7) one image's product is (o, ck) @ (ck, 49),
// too narrow for the GEMM's register tiles, and it spends its time packing. A few
// images side by side make the narrow side a few hundred columns.
int64_t images_per_block(const ConvDims& d, size_t elem) {
  const int64_t L = std::max<int64_t>(d.l(), 1);
  int64_t nb = std::max<int64_t>(1, (kBlockColumns + L - 1) / L);
  // Keep the column block within ~4 MiB.
  const int64_t cap = std::max<int64_t>(1, int64_t((size_t(4) << 20) / (elem * d.ck() * L)));
  return std::min(nb, cap);
}

// rows (r, k L) <- the same r rows of k consecutive images (r, L) each: the block's
// images side by side.
template <class T>
void pack_rows(const T* src, int64_t r, int64_t L, int64_t k, T* dst) {
  for (int64_t t = 0; t < k; ++t)
    for (int64_t i = 0; i < r; ++i)
      std::copy(src + (t * r + i) * L, src + (t * r + i + 1) * L, dst + i * k * L + t * L);
}

// Per-piece scratch: the column block, a block of rows (o, nb L), the GEMM's panels and
// one padded image (c, hp, wp), zero-filled once (im2col relies on its zero borders).
template <class T>
struct Scratch {
  Tensor buf;
  T *cols, *rows, *gemm, *pad;
  Scratch(const ConvDims& d, int64_t nb, int64_t gemm_numel) {
    const int64_t nc = d.ck() * nb * d.l(), nr = d.o * nb * d.l(), np = d.c * padded(d).plane();
    buf = Tensor::empty({nc + nr + gemm_numel + np}, dtype_of<T>());
    cols = buf.data<T>();
    rows = cols + nc;
    gemm = rows + nr;
    pad = gemm + gemm_numel;
    std::fill(pad, pad + np, T(0));
  }
};

template <class T>
std::vector<Scratch<T>> scratch(int64_t pieces, const ConvDims& d, int64_t nb, int64_t gemm_numel) {
  std::vector<Scratch<T>> s;  // allocated before the parallel loop: tasks must not throw
  s.reserve(pieces);
  for (int64_t p = 0; p < pieces; ++p) s.emplace_back(d, nb, gemm_numel);
  return s;
}

template <class T>
void forward(const T* x, const T* w, const T* bias, T* y, const ConvDims& d) {
  const int64_t ck = d.ck(), L = d.l(), in_img = d.c * d.h * d.w;
  const int64_t nb = images_per_block(d, sizeof(T));
  const Pieces pc = image_pieces(d, 2);
  const std::vector<int32_t> off = patch_offsets(d);
  auto bufs = scratch<T>(pc.count, d, nb, gemm_scratch<T>(d.o, nb * L, ck));
  run_pieces(pc, [&](int64_t p) {
    Scratch<T>& s = bufs[p];
    for (int64_t n0 = pc.begin(p); n0 < pc.end(p); n0 += nb) {
      const int64_t k = std::min(nb, pc.end(p) - n0), ld = k * L;
      for (int64_t t = 0; t < k; ++t) {
        pad_image(x + (n0 + t) * in_img, d, s.pad);
        im2col(s.pad, d, off.data(), s.cols + t * L, ld);
      }
      // (o, k L) = (o, ck) @ (ck, k L), straight into y when the block is one image.
      T* yb = k == 1 ? y + n0 * d.o * L : s.rows;
      if (bias)
        for (int64_t oc = 0; oc < d.o; ++oc) std::fill(yb + oc * ld, yb + (oc + 1) * ld, bias[oc]);
      gemm(d.o, ld, ck, Strided<T>{w, ck, 1}, Strided<T>{s.cols, ld, 1}, yb, ld, bias != nullptr, s.gemm);
      if (k == 1) continue;
      for (int64_t t = 0; t < k; ++t)
        for (int64_t oc = 0; oc < d.o; ++oc)
          std::copy(yb + oc * ld + t * L, yb + oc * ld + (t + 1) * L, y + ((n0 + t) * d.o + oc) * L);
    }
  });
}

template <class T>
void backward_input(const T* g, const T* w, const T* bias, T* dx, const ConvDims& d) {
  const int64_t ck = d.ck(), L = d.l(), in_img = d.c * d.h * d.w;
  const int64_t nb = images_per_block(d, sizeof(T));
  const Pieces pc = image_pieces(d, 2);
  const std::vector<int32_t> off = patch_offsets(d);
  auto bufs = scratch<T>(pc.count, d, nb, gemm_scratch<T>(ck, nb * L, d.o));
  run_pieces(pc, [&](int64_t p) {
    Scratch<T>& s = bufs[p];
    for (int64_t n0 = pc.begin(p); n0 < pc.end(p); n0 += nb) {
      const int64_t k = std::min(nb, pc.end(p) - n0), ld = k * L;
      const T* gb = g + n0 * d.o * L;
      if (k > 1) {
        pack_rows(gb, d.o, L, k, s.rows);
        gb = s.rows;
      }
      // (ck, k L) = (o, ck)^T @ (o, k L), then scattered back onto each image.
      gemm(ck, ld, d.o, Strided<T>{w, 1, ck}, Strided<T>{gb, ld, 1}, s.cols, ld, false, s.gemm);
      for (int64_t t = 0; t < k; ++t) col2im(s.cols + t * L, d, off.data(), ld, bias, s.pad, dx + (n0 + t) * in_img);
    }
  });
}

template <class T>
void backward_weight(const T* x, const T* g, T* dw, const ConvDims& d) {
  const int64_t ck = d.ck(), L = d.l(), in_img = d.c * d.h * d.w;
  const int64_t nb = images_per_block(d, sizeof(T));
  // Fixed pieces of the batch (their number depends only on the batch and the thread
  // count); each sums its images into its own partial, piece 0 straight into dw.
  const Pieces pc = image_pieces(d, 1);
  std::vector<Tensor> partial;
  for (int64_t q = 1; q < pc.count; ++q) partial.push_back(Tensor::empty({d.o * ck}, dtype_of<T>()));
  const std::vector<int32_t> off = patch_offsets(d);
  auto bufs = scratch<T>(pc.count, d, nb, gemm_scratch<T>(d.o, ck, nb * L));
  run_pieces(pc, [&](int64_t p) {
    Scratch<T>& s = bufs[p];
    T* part = p == 0 ? dw : partial[p - 1].data<T>();
    std::fill(part, part + d.o * ck, T(0));
    for (int64_t n0 = pc.begin(p); n0 < pc.end(p); n0 += nb) {
      const int64_t k = std::min(nb, pc.end(p) - n0), ld = k * L;
      // cols (ck, k L) and g (o, k L): the block's images side by side.
      for (int64_t t = 0; t < k; ++t) {
        pad_image(x + (n0 + t) * in_img, d, s.pad);
        im2col(s.pad, d, off.data(), s.cols + t * L, ld);
      }
      pack_rows(g + n0 * d.o * L, d.o, L, k, s.rows);
      // (o, ck) += (o, k L) @ (ck, k L)^T
      gemm(d.o, ck, ld, Strided<T>{s.rows, ld, 1}, Strided<T>{s.cols, 1, ld}, part, ck, true, s.gemm);
    }
  });
  // Partials added in piece order; elementwise, so the split over threads does not matter.
  if (pc.count > 1) {
    parallel_range(d.o * ck, [&](int64_t b, int64_t e) {
      for (int64_t q = 1; q < pc.count; ++q) {
        const T* src = partial[q - 1].data<T>();
        for (int64_t i = b; i < e; ++i) dw[i] += src[i];
      }
    });
  }
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* who) {
  if (a.dtype() != b.dtype())
    throw TypeError(std::string(who) + ": dtypes differ (" + dtype_name(a.dtype()) + " and " +
                    dtype_name(b.dtype()) + ")");
}

// A product operand as the precision wants it: under "bf16-emulated" a float32 tensor's
// values rounded to bfloat16, once per convolution rather than once per image block (the
// patches and padding that im2col builds from it are then rounded too: copies and zeros).
Tensor product_operand(const Tensor& t) {
  return t.dtype() == DType::f32 && kernels::products_round_to_bf16() ? kernels::bf16_rounded(t) : t;
}
}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const ConvDims& d) {
  check_same_dtype(x, weight, "conv2d");
  if (bias) check_same_dtype(x, *bias, "conv2d");
  Tensor y = Tensor::empty({d.n, d.o, d.ho, d.wo}, x.dtype());
  const Tensor xr = product_operand(x), wr = product_operand(weight);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    forward<T>(xr.data<T>(), wr.data<T>(), bias ? bias->data<T>() : nullptr, y.data<T>(), d);
  });
  return y;
}

Tensor conv2d_backward_input(const Tensor& g, const Tensor& weight, const Tensor* bias,
                             const ConvDims& d) {
  check_same_dtype(g, weight, "conv_transpose2d");
  if (bias) check_same_dtype(g, *bias, "conv_transpose2d");
  Tensor dx = Tensor::empty({d.n, d.c, d.h, d.w}, g.dtype());
  const Tensor gr = product_operand(g), wr = product_operand(weight);
  dispatch(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    backward_input<T>(gr.data<T>(), wr.data<T>(), bias ? bias->data<T>() : nullptr,
                      dx.data<T>(), d);
  });
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& x, const Tensor& g, const ConvDims& d) {
  check_same_dtype(x, g, "conv2d weight gradient");
  Tensor dw = Tensor::empty({d.o, d.c, d.kh, d.kw}, x.dtype());
  const Tensor xr = product_operand(x), gr = product_operand(g);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    backward_weight<T>(xr.data<T>(), gr.data<T>(), dw.data<T>(), d);
  });
  return dw;
}

}  // namespace cgan::kernels
