// OpenBLAS, loaded at run time, for float32 matrix products.
//
// On the machines we measured, OpenBLAS's single-threaded SGEMM is 10-45% faster than
// cgan's packed AVX2 kernel (sgemm.cpp) on the shapes of GAN training, and it has
// AVX-512 kernels that it picks at run time for the CPU it runs on (DYNAMIC_ARCH). The
// Python package `scipy_openblas32` (the OpenBLAS build NumPy and SciPy use, a
// dependency of cgan) ships it; cgan's Python package passes its path to load_openblas
// at import. Nothing links against it: without it (or with CGAN_BLAS=builtin) every
// product runs on cgan's own kernels.
//
// Threads: OpenBLAS is always called with one thread, from inside cgan's own parallel
// loops (cgan splits a product into row blocks, parallel.hpp), so the two never
// oversubscribe and a product's result depends only on its sizes and cgan's thread count.
#pragma once
#include <cstdint>
#include <string>

namespace cgan::kernels {

// Loads OpenBLAS from this shared library (scipy_openblas32's, symbols prefixed
// `scipy_`) and makes it the float32 GEMM backend. RuntimeError naming what failed.
void load_openblas(const std::string& path);

// "openblas" (when loaded) or "builtin": the backend float32 products use.
std::string gemm_backend();
// Switches between the two ("openblas" needs load_openblas first); for benchmarks and tests
// that compare them in one process. ValueError for another name, RuntimeError when absent.
void set_gemm_backend(const std::string& name);
// OpenBLAS's build string ("OpenBLAS 0.3.x DYNAMIC_ARCH ... Zen MAX_THREADS=64"), or "".
std::string openblas_config();

// C (m, n; leading dimension ldc) [+]= A @ B through OpenBLAS, with A(i, p) = a[i rsa + p csa]
// and B(p, j) = b[p rsb + j csb]. Returns false, touching nothing, when OpenBLAS is not the
// backend or the strides are not a BLAS layout (one unit stride per operand); the caller
// then computes the product itself.
bool openblas_sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa,
                    const float* b, int64_t rsb, int64_t csb, float* c, int64_t ldc, bool accumulate);

}  // namespace cgan::kernels
