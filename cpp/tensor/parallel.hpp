// Threads: one knob (OpenMP's count) for elementwise loops and matrix products, and
// the elementwise loop helper. Work is split across threads only above a size
// threshold: below it the fork/join costs more than the loop. Eigen is built with
// EIGEN_DONT_PARALLELIZE: kernels::matmul splits large products into per-thread row
// blocks itself, so thread pools never nest and small products stay single-threaded.
#pragma once
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace cgan {

// Elements below which an elementwise loop runs on one thread.
constexpr int64_t kParallelThreshold = 1 << 15;
// Multiply-adds below which a matrix product runs on one thread (~40 us of work).
constexpr double kParallelGemmWork = double(1 << 20);

void set_num_threads(int n);  // threads for elementwise loops and matrix products
int get_num_threads();
int max_num_threads();  // the largest count set_num_threads accepts
// OpenMP's thread count is per calling thread; this sets the calling thread's count to
// the one given to set_num_threads (a no-op if it was never called or already matches).
void adopt_num_threads();
// Threads that took part in a large parallel_range loop started from the calling thread
// (a diagnostic for tests).
int threads_in_parallel_region();
// Flush subnormal floats to zero (FTZ and DAZ) in this thread and the OpenMP threads,
// as torch.set_flush_denormal: long runs otherwise slow down when Adam's second moments
// and dead units' gradients go subnormal. Off by default (IEEE results). Returns whether
// the CPU supports it.
bool set_flush_denormal(bool on);

// f(begin, end) over [0, n), split into contiguous static chunks when n is large.
template <class F>
void parallel_range(int64_t n, F&& f) {
  if (n < kParallelThreshold) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    int nt = 1, id = 0;
#ifdef _OPENMP
    nt = omp_get_num_threads();
    id = omp_get_thread_num();
#endif
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = id * chunk, e = b + chunk < n ? b + chunk : n;
    if (b < e) f(b, e);
  }
}

}  // namespace cgan
