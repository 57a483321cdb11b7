// The precision of matrix products and convolutions (cgan.set_matmul_precision), and the
// CPU features a reduced-precision mode needs, detected at run time with cpuid.
//
// "float32" is the default. "bf16" (bfloat16 products, float32 accumulation and master
// weights) runs the products on the AVX512_BF16 kernel (bf16_gemm.hpp) and needs a CPU
// with AVX512_BF16; elsewhere setting it reports what is missing and leaves the precision
// unchanged.
// "bf16-emulated" runs the arithmetic of those kernels on any CPU: the operands of every
// product and convolution are rounded to bfloat16 (round to nearest even) and the
// products summed in float32, as VDPBF16PS and TDPBF16PS do (up to the order of the
// float32 additions, and their flushing of subnormals). Slower than float32 by the
// rounding (once per product or convolution, of each operand); it is for measuring what
// bfloat16 does to training, and the reference the hardware kernel is tested against.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace cgan::kernels {

struct CpuFeatures {
  bool avx2_fma = false;     // AVX2 and FMA3 (the float32 kernels' instruction set)
  bool avx512f = false;      // AVX-512 Foundation, with the OS saving the ZMM state
  bool avx512_bf16 = false;  // VDPBF16PS (bfloat16 dot products into float32)
  bool amx_bf16 = false;     // AMX tiles with bfloat16 TDPBF16PS, with the OS saving tile state
};

// What this CPU (and OS) supports; detected once.
const CpuFeatures& cpu_features();

enum class MatmulPrecision { float32, bf16, bf16_emulated };

// The mode's name: "float32", "bf16" or "bf16-emulated".
std::string matmul_precision_name(MatmulPrecision p);
MatmulPrecision get_matmul_precision();
// Sets the mode by name. ValueError for an unknown name (listing the valid ones);
// RuntimeError naming the missing CPU feature (or kernels) when the mode cannot run
// here, in which case the current mode stays.
void set_matmul_precision(const std::string& name);

// Whether products round their operands to bfloat16 ("bf16-emulated").
inline bool products_round_to_bf16() { return get_matmul_precision() == MatmulPrecision::bf16_emulated; }

// The bfloat16 nearest to x (ties to even), as its 16 bits: integer rounding of the bit
// pattern, branch-free so that loops over it vectorise. Adding 0x7fff plus the lowest kept
// bit carries into the kept half exactly when the dropped half is above one half, or equal
// to it with the kept half odd. A NaN could carry into an infinity's pattern, so it is
// truncated with its quiet bit set instead (with its low bits cleared it could become
// infinity, too). Values beyond the largest bfloat16 round to infinity.
inline uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  return uint16_t(nan ? (u | 0x00400000u) >> 16 : rounded);
}

// The float32 whose top half is the bfloat16 h (exact).
inline float bf16_to_float(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// y[i] = x[i] rounded to the nearest bfloat16 (ties to even), as a float32: the top 16 bits
// of the rounded value, the low 16 zero. NaN stays NaN, infinities stay, and values beyond
// the largest bfloat16 round to infinity, as in torch's x.to(torch.bfloat16). y may be x.
void round_to_bf16(const float* x, float* y, int64_t n);

}  // namespace cgan::kernels
