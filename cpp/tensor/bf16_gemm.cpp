#include "bf16_gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "errors.hpp"
#include "precision.hpp"

#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 10))
#include <immintrin.h>
#define CGAN_BF16_AVX512 1
#endif

namespace cgan::kernels {

namespace {
constexpr int64_t MR = 12, NR = 32;  // register tile: 24 zmm accumulators of 16 floats
constexpr int64_t KC = 256;          // depth of one pass (even): a B micro-panel is 16 KiB
constexpr int64_t MC = 192;          // rows of A per pass: the packed A block is 96 KiB
constexpr int64_t NC = 4096;         // columns of B per packed block

// Panels of W lines (rows of A, columns of B) of a strided operand, x(l, p) = x[l ls + p ps]
// for the lines [0, len) and the depth [0, kc): for each pair q of the depth, the W
// bfloat16 pairs (x(l, 2q), x(l, 2q + 1)) side by side, the 32 bits VDPBF16PS multiplies
// lane by lane, low half first. The pair's second half past an odd depth, and lines past
// the last, are zero.
template <int64_t W>
void pack_panels(const float* x, int64_t ls, int64_t ps, int64_t len, int64_t kc, uint16_t* dst) {
  const int64_t kp = (kc + 1) / 2;
  uint16_t run[KC + 1];  // one line's depth, rounded
  for (int64_t l0 = 0; l0 < len; l0 += W, dst += W * 2 * kp) {
    const int64_t lines = std::min(W, len - l0);
    if (ps == 1) {  // each line's depth is contiguous: round it in one pass, then place its pairs
      for (int64_t w = 0; w < W; ++w) {
        if (w < lines)
          for (int64_t p = 0; p < kc; ++p) run[p] = bf16_bits(x[(l0 + w) * ls + p]);
        else
          std::fill(run, run + kc, uint16_t(0));
        run[kc] = 0;
        for (int64_t q = 0; q < kp; ++q) std::memcpy(dst + (q * W + w) * 2, run + 2 * q, 4);
      }
      continue;
    }
    for (int64_t q = 0; q < kp; ++q) {
      uint16_t* out = dst + q * W * 2;
      const float* v0 = x + l0 * ls + 2 * q * ps;  // depth 2q of line l0
      const bool odd = 2 * q + 1 < kc;
      if (ls == 1 && lines == W && odd) {  // the lines side by side: two vector reads
        for (int64_t w = 0; w < W; ++w) {
          out[2 * w] = bf16_bits(v0[w]);
          out[2 * w + 1] = bf16_bits(v0[ps + w]);
        }
        continue;
      }
      for (int64_t w = 0; w < W; ++w) {
        const float* v = v0 + std::min(w, lines - 1) * ls;
        out[2 * w] = w < lines ? bf16_bits(v[0]) : 0;
        out[2 * w + 1] = w < lines && odd ? bf16_bits(v[ps]) : 0;
      }
    }
  }
}

// A[ic : ic + mc, pc : pc + kc] as panels of MR rows.
void pack_a(StridedF32 a, int64_t ic, int64_t mc, int64_t pc, int64_t kc, uint16_t* ap) {
  pack_panels<MR>(a.p + ic * a.rs + pc * a.cs, a.rs, a.cs, mc, kc, ap);
}

// B[pc : pc + kc, jc : jc + nc] as panels of NR columns.
void pack_b(StridedF32 b, int64_t pc, int64_t kc, int64_t jc, int64_t nc, uint16_t* bp) {
  pack_panels<NR>(b.p + pc * b.rs + jc * b.cs, b.cs, b.rs, nc, kc, bp);
}

// C tile (mr x nr valid entries of an MR x NR tile) = acc, or += acc when `add`.
void store_tile(const float* acc, float* c, int64_t ldc, int64_t mr, int64_t nr, bool add) {
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) c[r * ldc + j] = add ? c[r * ldc + j] + acc[r * NR + j] : acc[r * NR + j];
}

// One register tile: C [+]= a panel (kp pairs x MR) . b panel (kp pairs x NR).
using TileFn = void (*)(int64_t kp, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, int64_t mr,
                        int64_t nr, bool add);

// VDPBF16PS's input: a bfloat16 subnormal reads as zero of its sign.
float widen_daz(uint16_t h) { return bf16_to_float((h & 0x7f80u) ? h : uint16_t(h & 0x8000u)); }

// VDPBF16PS's output: a subnormal sum is flushed to zero of its sign.
float flush_subnormal(float x) { return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x; }

void tile_portable(int64_t kp, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, int64_t mr,
                   int64_t nr, bool add) {
  float acc[MR * NR] = {};
  for (int64_t q = 0; q < kp; ++q, a += 2 * MR, b += 2 * NR)
    for (int64_t r = 0; r < MR; ++r) {
      const float a0 = widen_daz(a[2 * r]), a1 = widen_daz(a[2 * r + 1]);
      for (int64_t j = 0; j < NR; ++j) {
        float& s = acc[r * NR + j];  // the SDM's order: the odd term, then the even one
        s = flush_subnormal(std::fma(a1, widen_daz(b[2 * j + 1]), s));
        s = flush_subnormal(std::fma(a0, widen_daz(b[2 * j]), s));
      }
    }
  store_tile(acc, c, ldc, mr, nr, add);
}

#ifdef CGAN_BF16_AVX512
// The same tile with VDPBF16PS: per pair, two 16-column B vectors and, per row, its A pair
// broadcast to every lane. The 24 accumulators are named variables: as an array GCC
// keeps them on the stack.
__attribute__((target("avx512f,avx512bf16"))) void tile_avx512_bf16(int64_t kp, const uint16_t* a,
                                                                     const uint16_t* b, float* c, int64_t ldc,
                                                                     int64_t mr, int64_t nr, bool add) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
         c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00,
         c80 = c00, c81 = c00, c90 = c00, c91 = c00, ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
  for (int64_t q = 0; q < kp; ++q, a += 2 * MR, b += 2 * NR) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + NR);
    __m512bh ar;
    int32_t pair;
#define CGAN_ROW(r, lo, hi)                          \
  std::memcpy(&pair, a + 2 * r, 4);                  \
  ar = (__m512bh)_mm512_set1_epi32(pair);            \
  lo = _mm512_dpbf16_ps(lo, ar, b0);                 \
  hi = _mm512_dpbf16_ps(hi, ar, b1);
    CGAN_ROW(0, c00, c01)
    CGAN_ROW(1, c10, c11)
    CGAN_ROW(2, c20, c21)
    CGAN_ROW(3, c30, c31)
    CGAN_ROW(4, c40, c41)
    CGAN_ROW(5, c50, c51)
    CGAN_ROW(6, c60, c61)
    CGAN_ROW(7, c70, c71)
    CGAN_ROW(8, c80, c81)
    CGAN_ROW(9, c90, c91)
    CGAN_ROW(10, ca0, ca1)
    CGAN_ROW(11, cb0, cb1)
#undef CGAN_ROW
  }
  const __m512 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                             {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {ca0, ca1}, {cb0, cb1}};
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; ++r) {
      float* row = c + r * ldc;
      __m512 lo = acc[r][0], hi = acc[r][1];
      if (add) {
        lo = _mm512_add_ps(lo, _mm512_loadu_ps(row));
        hi = _mm512_add_ps(hi, _mm512_loadu_ps(row + 16));
      }
      _mm512_storeu_ps(row, lo);
      _mm512_storeu_ps(row + 16, hi);
    }
    return;
  }
  alignas(64) float t[MR * NR];
  for (int r = 0; r < MR; ++r) {
    _mm512_store_ps(t + r * NR, acc[r][0]);
    _mm512_store_ps(t + r * NR + 16, acc[r][1]);
  }
  store_tile(t, c, ldc, mr, nr, add);
}
#endif

TileFn tile_for(Bf16Kernel kernel) {
  if (kernel == Bf16Kernel::portable) return tile_portable;
#ifdef CGAN_BF16_AVX512
  if (bf16_hardware_available()) return tile_avx512_bf16;
#endif
  throw std::runtime_error("bf16_gemm: this CPU has no AVX512_BF16 (or this build lacks its kernel)");
}
}  // namespace

bool bf16_hardware_available() {
#ifdef CGAN_BF16_AVX512
  return cpu_features().avx512_bf16;
#else
  return false;
#endif
}

std::string bf16_kernel_name(Bf16Kernel kernel) {
  return kernel == Bf16Kernel::hardware ? "avx512_bf16" : "portable";
}

namespace {
std::atomic<Bf16Kernel> g_products_kernel{Bf16Kernel::hardware};
}

Bf16Kernel bf16_products_kernel() { return g_products_kernel.load(std::memory_order_relaxed); }

void set_bf16_products_kernel(const std::string& name) {
  if (name == "avx512_bf16") g_products_kernel.store(Bf16Kernel::hardware);
  else if (name == "portable") g_products_kernel.store(Bf16Kernel::portable);
  else throw ValueError("bf16 kernel must be \"avx512_bf16\" or \"portable\", got \"" + name + "\"");
}

void bf16_gemm(int64_t m, int64_t n, int64_t k, StridedF32 a, StridedF32 b, float* c, int64_t ldc,
               bool accumulate, Bf16Kernel kernel) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const TileFn tile = tile_for(kernel);
  thread_local std::vector<uint16_t> a_panels, b_panels;
  a_panels.resize(size_t(MC * KC));
  b_panels.resize(size_t(KC * ((std::min(n, NC) + NR - 1) / NR * NR)));
  uint16_t* ap = a_panels.data();
  uint16_t* bp = b_panels.data();
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc), kp = (kc + 1) / 2;
      const bool add = accumulate || pc > 0;  // later depth blocks add onto the first
      pack_b(b, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = std::min(MC, m - ic);
        pack_a(a, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            tile(kp, ap + ir * 2 * kp, bp + jr * 2 * kp, c + (ic + ir) * ldc + jc + jr, ldc,
                 std::min(MR, mc - ir), std::min(NR, nc - jr), add);
      }
    }
  }
}

std::string bf16_self_check() {
  if (!bf16_hardware_available()) return "no AVX512_BF16 kernel on this CPU";
  // Sizes off every block edge (MR, NR, an odd depth, two depth blocks), both operand
  // layouts, accumulation; values from a fixed integer hash, exact in bfloat16 or not.
  struct Case { int64_t m, n, k; bool ta, tb, acc; };
  const Case cases[] = {{29, 45, 37, false, true, false}, {13, 70, 301, true, false, true}, {1, 33, 2, false, false, false}};
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return float(int32_t(state >> 8) - (1 << 23)) / float(1 << 22);  // in [-2, 2)
  };
  for (const Case& t : cases) {
    std::vector<float> A(size_t(t.m * t.k)), B(size_t(t.k * t.n)), C0(size_t(t.m * t.n)), C1;
    for (float& x : A) x = next();
    for (float& x : B) x = next();
    for (float& x : C0) x = next();
    C1 = C0;
    const StridedF32 a = t.ta ? StridedF32{A.data(), 1, t.m} : StridedF32{A.data(), t.k, 1};
    const StridedF32 b = t.tb ? StridedF32{B.data(), 1, t.k} : StridedF32{B.data(), t.n, 1};
    bf16_gemm(t.m, t.n, t.k, a, b, C0.data(), t.n, t.acc, Bf16Kernel::portable);
    bf16_gemm(t.m, t.n, t.k, a, b, C1.data(), t.n, t.acc, Bf16Kernel::hardware);
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) {
        double scale = 1.0;  // sum |a||b| (+ |c|): the size of the float32 rounding errors
        for (int64_t p = 0; p < t.k; ++p)
          scale += std::fabs(double(a.p[i * a.rs + p * a.cs]) * double(b.p[p * b.rs + j * b.cs]));
        const double diff = std::fabs(double(C0[size_t(i * t.n + j)]) - double(C1[size_t(i * t.n + j)]));
        if (!(diff <= scale * 0x1p-20))
          return "avx512_bf16 and portable kernels differ by " + std::to_string(diff) + " at (" +
                 std::to_string(i) + ", " + std::to_string(j) + ") of a " + std::to_string(t.m) + "x" +
                 std::to_string(t.n) + "x" + std::to_string(t.k) + " product";
      }
  }
  return "";
}

}  // namespace cgan::kernels
