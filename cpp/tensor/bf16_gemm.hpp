// bfloat16 products with float32 sums: the kernel of cgan.set_matmul_precision("bf16").
//
// C (m, n) [+]= A @ B with the operands strided as for sgemm (sgemm.hpp). A and B are
// rounded to bfloat16 (nearest even, precision.hpp's bf16_bits) while they are packed;
// the products are summed in float32 by VDPBF16PS, two k terms per instruction, the odd
// one first, each addition rounded to nearest even, bfloat16 subnormals read as zero and
// subnormal sums flushed to zero (Intel SDM, VDPBF16PS). Single-threaded, like sgemm:
// the callers split the work.
//
// Two kernels run the same packing and blocking and differ only in the 12x32 register
// tile: "avx512_bf16" (the instruction, compiled for it with a target attribute and
// chosen at run time when cpuid reports AVX512_BF16) and "portable" (plain C++ that does
// each lane's arithmetic in the order the SDM gives). The portable one is the reference
// the hardware one is checked against, and it lets every CPU test the packing and
// blocking; it is far too slow to train with.
#pragma once
#include <cstdint>
#include <string>

#include "sgemm.hpp"

namespace cgan::kernels {

enum class Bf16Kernel { hardware, portable };

// Whether the hardware kernel is compiled in and this CPU (and OS) can run it.
bool bf16_hardware_available();

// "avx512_bf16" or "portable".
std::string bf16_kernel_name(Bf16Kernel kernel);

// The kernel "bf16" products run on: the hardware one, unless tests chose the portable
// one (which makes "bf16" settable on any CPU, so that the whole path through matmul and
// the convolutions is tested everywhere). ValueError for another name.
Bf16Kernel bf16_products_kernel();
void set_bf16_products_kernel(const std::string& name);

// C (row-major, leading dimension ldc) = A @ B, or C += A @ B when `accumulate`, on the
// kernel given (the hardware one must be available). Each C entry is summed in an order
// fixed by k, so the result does not depend on the thread that runs it.
void bf16_gemm(int64_t m, int64_t n, int64_t k, StridedF32 a, StridedF32 b, float* c, int64_t ldc,
               bool accumulate, Bf16Kernel kernel);
// The same on bf16_products_kernel(): what "bf16" products call.
inline void bf16_gemm(int64_t m, int64_t n, int64_t k, StridedF32 a, StridedF32 b, float* c, int64_t ldc,
                      bool accumulate) {
  bf16_gemm(m, n, k, a, b, c, ldc, accumulate, bf16_products_kernel());
}

// Runs both kernels on products of awkward sizes and layouts and compares them: "" when
// they agree to float32 rounding, else what differed. set_matmul_precision("bf16") calls
// it once before it switches, so that a CPU whose VDPBF16PS does other arithmetic than
// the portable kernel models is refused rather than trained on.
std::string bf16_self_check();

}  // namespace cgan::kernels
