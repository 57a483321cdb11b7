#include "sgemm.hpp"

#include "blas.hpp"

#include <algorithm>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define CGAN_SGEMM_AVX2 1
#else
#include <Eigen/Core>
#endif

namespace cgan::kernels {

namespace {
constexpr int64_t MR = 6, NR = 16;  // register tile: 12 ymm accumulators
constexpr int64_t KC = 256;         // depth of one pass: a B micro-panel (16 KiB) stays in L1
constexpr int64_t MC = 96;          // rows of A per pass: the packed A block (96 KiB) stays in L2
constexpr int64_t NC = 4096;        // columns of B per packed block

// A[ic : ic + mc, pc : pc + kc] as panels of MR rows: panel r holds, for each p, the MR
// values A(r MR + 0..5, p) side by side (zeros past the last row).
void pack_a(StridedF32 a, int64_t ic, int64_t mc, int64_t pc, int64_t kc, float* ap) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    float* dst = ap + ir * kc;
    const int64_t rows = std::min(MR, mc - ir);
    if (a.cs == 1 && rows == MR) {  // rows contiguous in p: MR read streams, one write stream
      const float* src[MR];
      for (int64_t r = 0; r < MR; ++r) src[r] = a.p + (ic + ir + r) * a.rs + pc;
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t r = 0; r < MR; ++r) dst[p * MR + r] = src[r][p];
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a.p + (ic + ir) * a.rs + (pc + p) * a.cs;
        for (int64_t r = 0; r < MR; ++r) dst[p * MR + r] = r < rows ? src[r * a.rs] : 0.0f;
      }
    }
  }
}

// B[pc : pc + kc, jc : jc + nc] as panels of NR columns: panel j holds, for each p, the
// NR values B(p, j NR + 0..15) side by side (zeros past the last column).
void pack_b(StridedF32 b, int64_t pc, int64_t kc, int64_t jc, int64_t nc, float* bp) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    float* dst = bp + jr * kc;
    const int64_t cols = std::min(NR, nc - jr);
    if (b.cs == 1 && cols == NR) {
      for (int64_t p = 0; p < kc; ++p)
        std::memcpy(dst + p * NR, b.p + (pc + p) * b.rs + jc + jr, NR * sizeof(float));
    } else if (b.rs == 1 && cols == NR) {  // B read transposed: NR read streams
      const float* src[NR];
      for (int64_t c = 0; c < NR; ++c) src[c] = b.p + (jc + jr + c) * b.cs + pc;
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t c = 0; c < NR; ++c) dst[p * NR + c] = src[c][p];
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = b.p + (pc + p) * b.rs + (jc + jr) * b.cs;
        for (int64_t c = 0; c < NR; ++c) dst[p * NR + c] = c < cols ? src[c * b.cs] : 0.0f;
      }
    }
  }
}

#ifdef CGAN_SGEMM_AVX2
// C tile (mr x nr valid entries) [+]= a panel (kc x MR) @ b panel (kc x NR). The 12
// accumulators are named variables: as an array GCC keeps them on the stack.
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t mr,
                  int64_t nr, bool add) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ar;
#define CGAN_ROW(r, lo, hi)                 \
  ar = _mm256_broadcast_ss(a + r);          \
  lo = _mm256_fmadd_ps(ar, b0, lo);         \
  hi = _mm256_fmadd_ps(ar, b1, hi);
    CGAN_ROW(0, c00, c01)
    CGAN_ROW(1, c10, c11)
    CGAN_ROW(2, c20, c21)
    CGAN_ROW(3, c30, c31)
    CGAN_ROW(4, c40, c41)
    CGAN_ROW(5, c50, c51)
#undef CGAN_ROW
    a += MR;
    b += NR;
  }
  alignas(32) float t[MR * NR];
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; ++r) {
      float* row = c + r * ldc;
      __m256 lo = acc[r][0], hi = acc[r][1];
      if (add) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, lo);
      _mm256_storeu_ps(row + 8, hi);
    }
    return;
  }
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(t + r * NR, acc[r][0]);
    _mm256_store_ps(t + r * NR + 8, acc[r][1]);
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) c[r * ldc + j] = add ? c[r * ldc + j] + t[r * NR + j] : t[r * NR + j];
}
#endif
}  // namespace

int64_t sgemm_scratch(int64_t m, int64_t n, int64_t k) {
  const int64_t ncb = (std::min(n, NC) + NR - 1) / NR * NR;
  return MC * KC + KC * ncb;
}

void sgemm(int64_t m, int64_t n, int64_t k, StridedF32 a, StridedF32 b, float* c, int64_t ldc,
           bool accumulate, float* scratch) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  if (openblas_sgemm(m, n, k, a.p, a.rs, a.cs, b.p, b.rs, b.cs, c, ldc, accumulate)) return;
#ifdef CGAN_SGEMM_AVX2
  float* ap = scratch;
  float* bp = scratch + MC * KC;
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc);
      const bool add = accumulate || pc > 0;  // later depth blocks add onto the first
      pack_b(b, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = std::min(MC, m - ic);
        pack_a(a, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            micro_kernel(kc, ap + ir * kc, bp + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc,
                         std::min(MR, mc - ir), std::min(NR, nc - jr), add);
      }
    }
  }
#else
  using Strides = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  // Eigen's Stride is (outer, inner); for a row-major map outer = row stride.
  Eigen::Map<const RowMat, 0, Strides> A(a.p, m, k, Strides(a.rs, a.cs));
  Eigen::Map<const RowMat, 0, Strides> B(b.p, k, n, Strides(b.rs, b.cs));
  Eigen::Map<RowMat, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (!accumulate) C.setZero();
  C.noalias() += A * B;
  (void)scratch;
#endif
}

}  // namespace cgan::kernels
