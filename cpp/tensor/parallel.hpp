// Threads: one knob for OpenMP and Eigen, and the elementwise loop helper.
// Elementwise work is split across threads only above a size threshold: below it the
// fork/join costs more than the loop. Our OpenMP regions never contain an Eigen GEMM,
// so the two thread pools never nest.
#pragma once
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace cgan {

// Elements below which an elementwise loop runs on one thread.
constexpr int64_t kParallelThreshold = 1 << 15;

void set_num_threads(int n);  // sets OpenMP's and Eigen's thread count
int get_num_threads();

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
