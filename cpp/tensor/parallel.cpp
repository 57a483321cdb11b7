#include "parallel.hpp"

#include "errors.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace cgan {

namespace {
// The count set through set_num_threads (0: never set). OpenMP keeps its thread count
// per calling thread, and a thread that Python started begins with the default, so the
// bindings call adopt_num_threads() on entry (see parallel.hpp).
std::atomic<int> g_num_threads{0};
}  // namespace

int max_num_threads() {
  // Far more threads than cores only thrashes; a huge count made libgomp abort the
  // process when thread creation failed.
  return std::max(64, 8 * static_cast<int>(std::thread::hardware_concurrency()));
}

void set_num_threads(int n) {
  if (n < 1 || n > max_num_threads())
    throw ValueError("set_num_threads: n must be between 1 and " + std::to_string(max_num_threads()) +
                     ", got " + std::to_string(n));
  g_num_threads.store(n, std::memory_order_relaxed);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

void adopt_num_threads() {
#ifdef _OPENMP
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n > 0 && omp_get_max_threads() != n) omp_set_num_threads(n);
#endif
}

int get_num_threads() {
#ifdef _OPENMP
  adopt_num_threads();
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int threads_in_parallel_region() {
  // A loop long enough that parallel_range gives every thread of the team a chunk.
  std::atomic<int> chunks{0};
  parallel_range(kParallelThreshold * 256, [&](int64_t, int64_t) { chunks.fetch_add(1); });
  return chunks.load();
}

bool set_flush_denormal(bool on) {
#if defined(__SSE__)
  // MXCSR is per thread: set it here and in every thread of the OpenMP team (threads
  // created later inherit it from this one).
  auto apply = [on] {
    constexpr unsigned kFtzDaz = 0x8040;  // flush-to-zero (bit 15) | denormals-are-zero (bit 6)
    unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? (csr | kFtzDaz) : (csr & ~kFtzDaz));
  };
  apply();
#pragma omp parallel
  apply();
  return true;
#else
  (void)on;
  return false;
#endif
}

}  // namespace cgan
