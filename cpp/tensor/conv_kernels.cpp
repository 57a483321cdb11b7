#include "conv_kernels.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <type_traits>
#include <vector>

#ifdef __AVX2__
#include <immintrin.h>
#endif

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

// ---- im2col / col2im on image-minor blocks ---------------------------------------------
// The batch is worked through in blocks of k images, laid out image-minor: the padded
// input block is xp (c, hp, wp, k) and its column matrix is cols (ck, L k), column l k + t
// holding output position l = (oh, ow) of image t. Row (ci, i, j) of the column matrix is
// x_t[ci, oh sh + i - ph, ow sw + j - pw], 0 where that falls in the padding.
//
// Why image-minor: with DCGAN's 4x4 stride-2 kernels on 7x7 to 28x28 images, a row of an
// image's column matrix is a strided gather of 7-14 pixels, too short and too scattered
// for vectors. Across the block's images the same patch pixel is k contiguous values, so
// im2col copies runs of k and col2im adds runs of k, and both vectorise.
//
// Both work on padded planes (hp = h + 2 ph, wp = w + 2 pw) with zero borders: every
// patch pixel then exists, and each row is one branch-free pass through a table of
// offsets, the same for every channel and image: for each kernel offset (i, j) and output
// position (oh, ow), the pixel (oh sh + i, ow sw + j) of a padded plane.

// Images per block: the run length of im2col's copies and col2im's adds (16 floats are
// two AVX vectors), and enough columns for the GEMM even on 7x7 outputs.
constexpr int64_t kBlockImages = 16;

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

// ---- transposes --------------------------------------------------------------------
// The image-minor layout costs a transpose on each side of a block (images in, results
// out). One value at a time, with one side strided, they would cost about as much as the
// gathers they replace; in 8 x 8 tiles, through AVX2 registers for float, they take a few
// percent of a convolution.

// dst (8 x 8; row stride ds) = src (8 x 8; row stride ss)^T
template <class T>
inline void transpose_tile(const T* __restrict src, int64_t ss, T* __restrict dst, int64_t ds) {
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = 0; j < 8; ++j) dst[j * ds + i] = src[i * ss + j];
}

#ifdef __AVX2__
template <>
inline void transpose_tile<float>(const float* __restrict src, int64_t ss, float* __restrict dst, int64_t ds) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ss);
  for (int i = 0; i < 8; i += 2) {  // pairs of rows interleaved: (r0 r1) -> a0 b0 a1 b1 | ...
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // then quads: four rows' elements 0, 1, 2, 3 per lane
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {  // then the 128-bit halves of rows 0-3 and 4-7
    _mm256_storeu_ps(dst + i * ds, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ds, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}
#endif

// dst (cols, rows; row stride ds) = src (rows, cols; row stride ss)^T
template <class T>
void transpose(const T* __restrict src, int64_t rows, int64_t cols, int64_t ss, T* __restrict dst, int64_t ds) {
  int64_t i = 0;
  for (; i + 8 <= rows; i += 8) {
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) transpose_tile(src + i * ss + j, ss, dst + j * ds + i, ds);
    for (; j < cols; ++j)
      for (int64_t r = i; r < i + 8; ++r) dst[j * ds + r] = src[r * ss + j];
  }
  for (; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * ds + i] = src[i * ss + j];
}

// xp (c, hp, wp, k) interior <- the k images x (k, c, h, w); the borders are left as they are.
template <class T>
void pad_block(const T* __restrict x, int64_t k, const ConvDims& d, T* __restrict xp) {
  const Padded pd = padded(d);
  const int64_t in_img = d.c * d.h * d.w;
  for (int64_t ci = 0; ci < d.c; ++ci)
    for (int64_t ih = 0; ih < d.h; ++ih)  // (k, w) rows of the images -> (w, k) in the block
      transpose(x + (ci * d.h + ih) * d.w, k, d.w, in_img, xp + ((ci * pd.hp + ih + d.ph) * pd.wp + d.pw) * k, k);
}

// cols (ck, L k) = the column matrix of the padded block xp (c, hp, wp, k). Writes every
// entry, so the buffer needs no zero fill.
template <class T>
void im2col(const T* __restrict xp, int64_t k, const ConvDims& d, const int32_t* __restrict off,
            T* __restrict cols) {
  const int64_t L = d.l(), kk = d.kh * d.kw, plane = padded(d).plane() * k;
  for (int64_t ci = 0; ci < d.c; ++ci) {
    const T* xc = xp + ci * plane;
    for (int64_t q = 0; q < kk; ++q) {
      T* __restrict r = cols + (ci * kk + q) * L * k;
      const int32_t* o = off + q * L;
      for (int64_t l = 0; l < L; ++l)  // a run of k values (GCC makes it a memcpy)
        for (int64_t t = 0; t < k; ++t) r[l * k + t] = xc[o[l] * k + t];
    }
  }
}

// The k images dx (k, c, h, w) = start[ci] + what the column matrix cols (ck, L k)
// scatters to (the adjoint of im2col), summed in the padded block xp (c, hp, wp, k), whose
// borders collect the padding's share and are dropped. Each pixel starts from start[ci]
// (0 without a bias) and adds its terms in (q, l) order: repeatable sums.
template <class T>
void col2im(const T* __restrict cols, int64_t k, const ConvDims& d, const int32_t* __restrict off,
            const T* start, T* __restrict xp, T* __restrict dx) {
  const Padded pd = padded(d);
  const int64_t L = d.l(), kk = d.kh * d.kw, in_img = d.c * d.h * d.w;
  for (int64_t ci = 0; ci < d.c; ++ci) {
    T* xc = xp + ci * pd.plane() * k;
    std::fill(xc, xc + pd.plane() * k, start ? start[ci] : T(0));
    for (int64_t q = 0; q < kk; ++q) {
      const T* __restrict r = cols + (ci * kk + q) * L * k;
      const int32_t* __restrict o = off + q * L;
      for (int64_t l = 0; l < L; ++l)  // one kernel offset: distinct pixels
        for (int64_t t = 0; t < k; ++t) xc[o[l] * k + t] += r[l * k + t];
    }
    for (int64_t ih = 0; ih < d.h; ++ih)  // (w, k) in the block -> (k, w) rows of the images
      transpose(xc + ((ih + d.ph) * pd.wp + d.pw) * k, d.w, k, k, dx + (ci * d.h + ih) * d.w, in_img);
  }
}

// rows (r, L k) <- the k images src (k, r, L), image-minor: rows[i, l k + t] = src[t, i, l].
template <class T>
void interleave(const T* __restrict src, int64_t r, int64_t L, int64_t k, T* __restrict rows) {
  for (int64_t i = 0; i < r; ++i) transpose(src + i * L, k, L, r * L, rows + i * L * k, k);
}

// The k images dst (k, r, L) <- rows (r, L k): the inverse of interleave.
template <class T>
void deinterleave(const T* __restrict rows, int64_t r, int64_t L, int64_t k, T* __restrict dst) {
  for (int64_t i = 0; i < r; ++i) transpose(rows + i * L * k, L, k, k, dst + i * L, r * L);
}

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

// Images per block: kBlockImages, fewer when the column block (ck, L k) or the block of
// output rows (o, L k) would pass ~4 MiB.
int64_t images_per_block(const ConvDims& d, size_t elem) {
  const int64_t per_image = std::max<int64_t>(std::max(d.ck(), d.o) * d.l(), 1);
  const int64_t cap = int64_t((size_t(4) << 20) / (elem * per_image));
  return std::max<int64_t>(1, std::min(kBlockImages, cap));
}

// Per-piece scratch: the column block (ck, nb L), a block of rows (o, nb L), the GEMM's
// panels and one padded block (c, hp, wp, nb).
template <class T>
struct Scratch {
  Tensor buf;
  T *cols, *rows, *gemm, *pad;
  Scratch(const ConvDims& d, int64_t nb, int64_t gemm_numel) {
    const int64_t nc = d.ck() * nb * d.l(), nr = d.o * nb * d.l(), np = d.c * padded(d).plane() * nb;
    buf = Tensor::empty({nc + nr + gemm_numel + np}, dtype_of<T>());
    cols = buf.data<T>();
    rows = cols + nc;
    gemm = rows + nr;
    pad = gemm + gemm_numel;
  }
};

template <class T>
std::vector<Scratch<T>> scratch(int64_t pieces, const ConvDims& d, int64_t nb, int64_t gemm_numel) {
  std::vector<Scratch<T>> s;  // allocated before the parallel loop: tasks must not throw
  s.reserve(pieces);
  for (int64_t p = 0; p < pieces; ++p) s.emplace_back(d, nb, gemm_numel);
  return s;
}

// xp (c, hp, wp, k) <- the k images x (k, c, h, w) with zero borders. The borders are
// zeroed when the block's k differs from the one padded before (padded_k: 0 for a fresh
// scratch block, then a shorter last block), since nothing else writes there.
template <class T>
void pad_images(const T* x, int64_t k, int64_t& padded_k, const ConvDims& d, T* xp) {
  if (k != padded_k) {
    const Padded pd = padded(d);
    const int64_t row = pd.wp * k, left = d.pw * k, right = (pd.wp - d.pw - d.w) * k;
    for (int64_t ci = 0; ci < d.c; ++ci) {
      T* plane = xp + ci * pd.plane() * k;
      std::fill(plane, plane + d.ph * row, T(0));                         // top rows
      std::fill(plane + (d.ph + d.h) * row, plane + pd.hp * row, T(0));   // bottom rows
      for (int64_t ih = d.ph; ih < d.ph + d.h; ++ih) {                    // the sides
        std::fill(plane + ih * row, plane + ih * row + left, T(0));
        std::fill(plane + (ih + 1) * row - right, plane + (ih + 1) * row, T(0));
      }
    }
    padded_k = k;
  }
  pad_block(x, k, d, xp);
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
    int64_t padded_k = 0;
    for (int64_t n0 = pc.begin(p); n0 < pc.end(p); n0 += nb) {
      const int64_t k = std::min(nb, pc.end(p) - n0), ld = k * L;
      pad_images(x + n0 * in_img, k, padded_k, d, s.pad);
      im2col(s.pad, k, d, off.data(), s.cols);
      // (o, L k) = (o, ck) @ (ck, L k), straight into y when the block is one image.
      T* yb = k == 1 ? y + n0 * d.o * L : s.rows;
      if (bias)
        for (int64_t oc = 0; oc < d.o; ++oc) std::fill(yb + oc * ld, yb + (oc + 1) * ld, bias[oc]);
      gemm(d.o, ld, ck, Strided<T>{w, ck, 1}, Strided<T>{s.cols, ld, 1}, yb, ld, bias != nullptr, s.gemm);
      if (k > 1) deinterleave(s.rows, d.o, L, k, y + n0 * d.o * L);
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
        interleave(gb, d.o, L, k, s.rows);
        gb = s.rows;
      }
      // (ck, L k) = (o, ck)^T @ (o, L k), then scattered back onto each image.
      gemm(ck, ld, d.o, Strided<T>{w, 1, ck}, Strided<T>{gb, ld, 1}, s.cols, ld, false, s.gemm);
      col2im(s.cols, k, d, off.data(), bias, s.pad, dx + n0 * in_img);
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
    int64_t padded_k = 0;
    for (int64_t n0 = pc.begin(p); n0 < pc.end(p); n0 += nb) {
      const int64_t k = std::min(nb, pc.end(p) - n0), ld = k * L;
      // cols (ck, L k) and g (o, L k): the block's images image-minor.
      pad_images(x + n0 * in_img, k, padded_k, d, s.pad);
      im2col(s.pad, k, d, off.data(), s.cols);
      interleave(g + n0 * d.o * L, d.o, L, k, s.rows);
      // (o, ck) += (o, L k) @ (ck, L k)^T
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
