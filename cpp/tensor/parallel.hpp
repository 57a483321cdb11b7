// Threads: one knob for elementwise loops, reductions, optimizer steps and matrix
// products, and the loop helpers they use. Work is split across threads only above a
// size threshold: below it the hand-off costs more than the loop.
//
// Why our own pool rather than OpenMP: an OpenMP parallel region ends in a barrier that
// waits for every thread of the team, so when another process holds a core (the normal
// case on a shared 2-core machine) each region waits for a descheduled thread's next
// time slice: a training step of small products became 10-40x slower with 2 threads
// than with 1. Here a job is a list of pieces that threads claim one at a time; the
// calling thread works through the list itself and waits only for pieces another thread
// has actually started, so a worker that is not running costs nothing.
//
// Results never depend on which thread runs a piece: the pieces are fixed by the
// problem size and the thread count, so a run with a fixed seed and thread count is
// bitwise repeatable. Eigen is built with EIGEN_DONT_PARALLELIZE: kernels::matmul splits
// large products into row blocks itself, so thread pools never nest.
#pragma once
#include <cstdint>
#include <functional>

namespace cgan {

// Elements below which an elementwise loop runs on one thread.
constexpr int64_t kParallelThreshold = 1 << 15;
// Multiply-adds below which a matrix product runs on one thread (~40 us of work).
constexpr double kParallelGemmWork = double(1 << 20);

void set_num_threads(int n);  // threads for every parallel loop (the caller included)
int get_num_threads();
int max_num_threads();  // the largest count set_num_threads accepts
// OS threads that ran the pieces of one parallel job (a diagnostic for tests).
int threads_in_parallel_region();
// Flush subnormal floats to zero (FTZ and DAZ) in this thread and the pool's threads,
// as torch.set_flush_denormal: long runs otherwise slow down when Adam's second moments
// and dead units' gradients go subnormal. Off by default (IEEE results). Returns whether
// the CPU supports it.
bool set_flush_denormal(bool on);

// task(i) for every i in [0, ntasks), spread over the calling thread and the pool. Runs
// everything on the calling thread when there is one thread, when called from inside a
// task, or while another thread's job holds the pool. Tasks must not throw.
void parallel_for(int64_t ntasks, const std::function<void(int64_t)>& task);

// f(begin, end) over [0, n) in contiguous pieces, in parallel when `work` (by default n;
// pass the elements touched when the range counts rows or blocks) reaches
// kParallelThreshold. The pieces depend only on n and the thread count.
template <class F>
void parallel_range(int64_t n, F&& f, int64_t work = -1) {
  const int nt = get_num_threads();
  if ((work < 0 ? n : work) < kParallelThreshold || nt == 1 || n < 2) {
    f(int64_t(0), n);
    return;
  }
  // A few pieces per thread, so that a thread that stalls leaves little behind it.
  int64_t pieces = n < 4 * nt ? n : 4 * nt;
  int64_t chunk = (n + pieces - 1) / pieces;
  if (chunk >= 64) chunk = (chunk + 15) / 16 * 16;  // whole vectors per piece
  pieces = (n + chunk - 1) / chunk;
  parallel_for(pieces, [&](int64_t p) {
    int64_t b = p * chunk, e = b + chunk < n ? b + chunk : n;
    f(b, e);
  });
}

}  // namespace cgan
