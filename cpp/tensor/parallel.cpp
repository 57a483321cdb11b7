#include "parallel.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <new>
#include <thread>
#include <vector>

#include "errors.hpp"
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace cgan {

namespace {

inline void cpu_relax() {
#if defined(__SSE2__)
  _mm_pause();
#endif
}

// ---- flush-to-zero, per thread --------------------------------------------------------------

std::atomic<int> g_flush{0};  // the mode every thread should have: 0 IEEE, 1 FTZ+DAZ
thread_local int t_flush = 0;  // what this thread has (-1: unknown)

void apply_flush_mode() {
  int want = g_flush.load(std::memory_order_relaxed);
  if (want == t_flush) return;
#if defined(__SSE__)
  constexpr unsigned kFtzDaz = 0x8040;  // flush-to-zero (bit 15) | denormals-are-zero (bit 6)
  unsigned csr = _mm_getcsr();
  _mm_setcsr(want ? (csr | kFtzDaz) : (csr & ~kFtzDaz));
#endif
  t_flush = want;
}

// ---- the pool ---------------------------------------------------------------------------------

// One job: the pieces [0, n), claimed through `next`. `active` counts the workers that
// joined the job; the caller may return (and free the job) once it is 0 and no worker can
// join any more.
struct Job {
  const std::function<void(int64_t)>* task;
  int64_t n;
  std::atomic<int64_t> next{0};
  std::atomic<int> active{0};
};

thread_local bool t_in_task = false;  // nested parallel loops run serially

int default_threads() {
  if (const char* s = std::getenv("OMP_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n >= 1) return std::min(n, max_num_threads());
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

class Pool {
 public:
  static Pool& get() {
    static Pool* pool = [] {
      auto* p = new Pool();  // never destroyed: workers may outlive static destructors
      pthread_atfork(nullptr, nullptr, [] { Pool::get().forget_after_fork(); });
      return p;
    }();
    return *pool;
  }

  int size() const { return size_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> busy(master_);
    stop_workers();
    size_.store(n, std::memory_order_relaxed);
  }

  void run(int64_t n, const std::function<void(int64_t)>& task) {
    if (n <= 0) return;
    if (n == 1 || size() == 1 || t_in_task) {
      run_serial(n, task);
      return;
    }
    std::unique_lock<std::mutex> busy(master_, std::try_to_lock);
    if (!busy.owns_lock()) {  // another thread's job holds the pool
      run_serial(n, task);
      return;
    }
    start_workers();
    Job job;
    job.task = &task;
    job.n = n;
    {
      std::lock_guard<std::mutex> lk(m_);
      job_ = &job;
      gen_.store(gen_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    cv_.notify_all();
    t_in_task = true;
    for (int64_t i; (i = job.next.fetch_add(1, std::memory_order_relaxed)) < n;) task(i);
    t_in_task = false;
    {
      std::lock_guard<std::mutex> lk(m_);
      job_ = nullptr;  // from here no worker can join
    }
    // Wait only for pieces that workers have started.
    for (int spin = 0; job.active.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 4096) cpu_relax();
      else std::this_thread::yield();
    }
  }

 private:
  static void run_serial(int64_t n, const std::function<void(int64_t)>& task) {
    bool outer = t_in_task;
    t_in_task = true;
    for (int64_t i = 0; i < n; ++i) task(i);
    t_in_task = outer;
  }

  void start_workers() {  // lazily, with master_ held
    int want = size() - 1;
    if (static_cast<int>(workers_.size()) == want) return;
    stop_ = false;
    // A new worker must count the job about to be posted as new: it takes the generation
    // from here, not from whenever its thread first runs (it would then miss that job).
    const uint64_t seen = gen_.load(std::memory_order_acquire);
    for (int i = static_cast<int>(workers_.size()); i < want; ++i)
      workers_.emplace_back([this, seen] { worker_loop(seen); });
  }

  void stop_workers() {  // with master_ held
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
  }

  void worker_loop(uint64_t seen) {
    t_in_task = true;
    t_flush = -1;  // a new thread inherits its creator's MXCSR: force the first apply_flush_mode
    for (;;) {
      // Spin briefly (a training step issues jobs back to back), then sleep.
      for (int s = 0; s < 2000 && gen_.load(std::memory_order_acquire) == seen; ++s) cpu_relax();
      Job* job;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || gen_.load(std::memory_order_relaxed) != seen; });
        if (stop_) return;
        seen = gen_.load(std::memory_order_relaxed);
        job = job_;
        if (!job) continue;  // that job is over already
        job->active.fetch_add(1, std::memory_order_relaxed);  // under m_: the caller sees it
      }
      apply_flush_mode();
      for (int64_t i; (i = job->next.fetch_add(1, std::memory_order_relaxed)) < job->n;) (*job->task)(i);
      job->active.fetch_sub(1, std::memory_order_release);
    }
  }

  // In a forked child only the forking thread exists: drop the workers without joining
  // them (they are gone) and start afresh, lazily, on the next job.
  void forget_after_fork() {
    new (&master_) std::mutex();
    new (&m_) std::mutex();
    new (&cv_) std::condition_variable();
    for (auto& t : workers_) t.detach();
    workers_.clear();
    job_ = nullptr;
    stop_ = false;
  }

  std::atomic<int> size_{default_threads()};
  std::mutex master_;  // held by the thread whose job runs
  std::mutex m_;       // guards job_, stop_ and the sleeping workers
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};  // bumps with every job
  Job* job_ = nullptr;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

void parallel_for(int64_t ntasks, const std::function<void(int64_t)>& task) {
  Pool::get().run(ntasks, task);
}

int max_num_threads() {
  // Far more threads than cores only thrashes, and thread creation can fail outright.
  return std::max(64, 8 * static_cast<int>(std::thread::hardware_concurrency()));
}

void set_num_threads(int n) {
  if (n < 1 || n > max_num_threads())
    throw ValueError("set_num_threads: n must be between 1 and " + std::to_string(max_num_threads()) +
                     ", got " + std::to_string(n));
  Pool::get().resize(n);
}

int threads_in_parallel_region() {
  // One piece per thread; each piece notes its thread and waits (at most 2 s, for a
  // worker that is not scheduled yet) until every thread of the pool has joined. The
  // result counts the OS threads that really ran pieces of one job.
  const int want = get_num_threads();
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::thread::id> seen;
  parallel_for(want, [&](int64_t) {
    std::unique_lock<std::mutex> lock(m);
    auto me = std::this_thread::get_id();
    if (std::find(seen.begin(), seen.end(), me) == seen.end()) seen.push_back(me);
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(2), [&] { return static_cast<int>(seen.size()) >= want; });
  });
  return static_cast<int>(seen.size());
}

int get_num_threads() { return Pool::get().size(); }

bool set_flush_denormal(bool on) {
#if defined(__SSE__)
  // MXCSR is per thread: set it here; the pool's threads pick it up before their next job.
  g_flush.store(on ? 1 : 0, std::memory_order_relaxed);
  apply_flush_mode();
  return true;
#else
  (void)on;
  return false;
#endif
}

}  // namespace cgan
