// Single-threaded float32 GEMM with strided operands, for the convolution kernels:
// C (m, n) [+]= A (m, k) @ B (k, n), where A(i, p) = a[i rsa + p csa] and
// B(p, j) = b[p rsb + j csb], so either operand may be read transposed in place.
// OpenBLAS when it is loaded (blas.hpp) and the operands have a BLAS layout; otherwise
// packed panels and a 6x16 AVX2/FMA register kernel (BLIS's layout), and without AVX2
// Eigen. Either way each C entry is summed in an order fixed by the sizes (and the CPU
// OpenBLAS picked its kernel for), so results do not depend on the thread running it.
#pragma once
#include <cstdint>

namespace cgan::kernels {

struct StridedF32 {
  const float* p;
  int64_t rs, cs;  // row and column strides in elements
};

// Floats of scratch space sgemm needs for these sizes (pass at least this many).
int64_t sgemm_scratch(int64_t m, int64_t n, int64_t k);

// C (row-major, leading dimension ldc) = A @ B, or C += A @ B when `accumulate`.
void sgemm(int64_t m, int64_t n, int64_t k, StridedF32 a, StridedF32 b, float* c, int64_t ldc,
           bool accumulate, float* scratch);

}  // namespace cgan::kernels
