#include "blas.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <mutex>
#include <stdexcept>

#include "errors.hpp"

namespace cgan::kernels {

namespace {
// CBLAS's enums (cblas.h): row-major order, no transpose, transpose.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
using SgemmFn = void (*)(int order, int ta, int tb, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* b, int ldb, float beta, float* c, int ldc);
using SetThreadsFn = void (*)(int);
using ConfigFn = char* (*)();

std::mutex load_mutex;                    // load_openblas may race from two Python threads
std::atomic<SgemmFn> loaded_sgemm{nullptr};  // set once by load_openblas
std::atomic<bool> use_openblas{false};      // the backend switch (set_gemm_backend)
std::string config;

// How one operand (rows x cols, strides rs and cs) is laid out for row-major CBLAS:
// as it is when its rows are contiguous, transposed when its columns are. False when
// neither stride is 1, or the leading dimension does not fit BLAS's rules or 32-bit ints.
bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int* trans, int* ld) {
  if (rows == 1) rs = std::max<int64_t>(cols, 1);  // a single row or column: the unused
  if (cols == 1) cs = 1;                           // stride may be anything
  int64_t lead;
  if (cs == 1 && rs >= std::max<int64_t>(cols, 1)) {
    *trans = kNoTrans;
    lead = rs;
  } else if (rs == 1 && cs >= std::max<int64_t>(rows, 1)) {
    *trans = kTrans;
    lead = cs;
  } else {
    return false;
  }
  if (lead > INT_MAX) return false;
  *ld = int(lead);
  return true;
}
}  // namespace

void load_openblas(const std::string& path) {
  std::lock_guard<std::mutex> lock(load_mutex);
  if (loaded_sgemm.load()) return;
  // RTLD_LOCAL: OpenBLAS's symbols stay out of the global namespace (NumPy's own copy
  // may be loaded too; the scipy_ prefix keeps them apart anyway).
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) throw std::runtime_error("load_openblas: cannot load " + path + ": " + dlerror());
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "scipy_cblas_sgemm"));
  auto set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "scipy_openblas_set_num_threads"));
  auto get_config = reinterpret_cast<ConfigFn>(dlsym(lib, "scipy_openblas_get_config"));
  if (!sgemm || !set_threads)
    throw std::runtime_error("load_openblas: " + path +
                       " has no scipy_cblas_sgemm / scipy_openblas_set_num_threads (not scipy_openblas32's library?)");
  // One OpenBLAS thread per call: cgan's pool does the splitting (see blas.hpp).
  set_threads(1);
  if (get_config) config = get_config();
  loaded_sgemm.store(sgemm);
  use_openblas.store(true);
}

std::string gemm_backend() { return use_openblas.load() ? "openblas" : "builtin"; }

void set_gemm_backend(const std::string& name) {
  if (name == "builtin") {
    use_openblas.store(false);
  } else if (name == "openblas") {
    if (!loaded_sgemm.load())
      throw std::runtime_error("set_gemm_backend: OpenBLAS is not loaded (pip install scipy-openblas32)");
    use_openblas.store(true);
  } else {
    throw ValueError("set_gemm_backend: backend must be \"openblas\" or \"builtin\", got \"" + name + "\"");
  }
}

std::string openblas_config() {
  std::lock_guard<std::mutex> lock(load_mutex);
  return config;
}

bool openblas_sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa,
                    const float* b, int64_t rsb, int64_t csb, float* c, int64_t ldc, bool accumulate) {
  SgemmFn sgemm = loaded_sgemm.load(std::memory_order_relaxed);
  if (!use_openblas.load(std::memory_order_relaxed) || !sgemm) return false;
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || ldc > INT_MAX || ldc < std::max<int64_t>(n, 1))
    return false;
  int ta, tb, lda, ldb;
  if (!blas_layout(m, k, rsa, csa, &ta, &lda) || !blas_layout(k, n, rsb, csb, &tb, &ldb)) return false;
  sgemm(kRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c,
        int(ldc));
  return true;
}

}  // namespace cgan::kernels
