#include "precision.hpp"

#include <atomic>
#include <cstring>
#include <stdexcept>

#include "bf16_gemm.hpp"
#include "errors.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CGAN_X86 1
#endif

namespace cgan::kernels {

namespace {

#ifdef CGAN_X86
// Extended control register 0: which register states the OS saves on a context switch.
unsigned long long xcr0() {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!osxsave || !avx) return f;
  const unsigned long long x = xcr0();
  const bool os_ymm = (x & 0x6) == 0x6;             // SSE and AVX state
  const bool os_zmm = (x & 0xe6) == 0xe6;           // plus opmask and the ZMM halves
  const bool os_tiles = (x & 0x60000) == 0x60000;   // AMX TILECFG and TILEDATA
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2_fma = os_ymm && fma && (b & (1u << 5));
  f.avx512f = os_zmm && (b & (1u << 16));
  // AMX-BF16 is leaf 7 EDX bit 22, AMX-TILE bit 24. (Linux also wants a per-process
  // arch_prctl(ARCH_REQ_XCOMP_PERM) before the first tile instruction: a kernel's job.)
  f.amx_bf16 = os_tiles && (d & (1u << 22)) && (d & (1u << 24));
  const unsigned int max_sub = a;
  if (max_sub >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512_bf16 = f.avx512f && (a & (1u << 5));  // leaf 7 sub-leaf 1 EAX bit 5
  }
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

// Read by every product; set rarely (from Python, usually once).
std::atomic<MatmulPrecision> g_precision{MatmulPrecision::float32};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::string matmul_precision_name(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::bf16: return "bf16";
    case MatmulPrecision::bf16_emulated: return "bf16-emulated";
    default: return "float32";
  }
}

MatmulPrecision get_matmul_precision() { return g_precision.load(std::memory_order_relaxed); }

void set_matmul_precision(const std::string& name) {
  if (name == "float32") {
    g_precision.store(MatmulPrecision::float32);
    return;
  }
  if (name == "bf16-emulated") {
    g_precision.store(MatmulPrecision::bf16_emulated);
    return;
  }
  if (name != "bf16") {
    const char* hint = name == "bfloat16" || name == "bf16_float32"       ? " (did you mean \"bf16\"?)"
                       : name == "bf16_emulated" || name == "bf16emulated" ? " (did you mean \"bf16-emulated\"?)"
                                                                           : "";
    throw ValueError("set_matmul_precision: precision must be \"float32\", \"bf16\" or \"bf16-emulated\", got \"" +
                     name + "\"" + hint);
  }
  if (bf16_products_kernel() == Bf16Kernel::portable) {  // tests: any CPU, very slow
    g_precision.store(MatmulPrecision::bf16);
    return;
  }
  const CpuFeatures& f = cpu_features();
  if (!f.avx512_bf16)
    throw std::runtime_error(
        "set_matmul_precision(\"bf16\"): this CPU has no AVX512_BF16 (cpuid; AVX-512 Foundation: " +
        std::string(f.avx512f ? "yes" : "no") + ", AMX-BF16: " + (f.amx_bf16 ? "yes" : "no") +
        "), which cgan's bfloat16 kernel needs, so bfloat16 products would be emulated and slower than "
        "float32; the precision stays as it was (\"bf16-emulated\" gives bfloat16's rounding in "
        "software, to measure its effect on training)");
  // Once per process: the hardware kernel against the portable one it is written to match.
  static const std::string mismatch = bf16_self_check();
  if (!mismatch.empty())
    throw std::runtime_error("set_matmul_precision(\"bf16\"): the AVX512_BF16 kernel failed its check on "
                             "this CPU (" + mismatch + "); the precision stays as it was "
                             "(\"bf16-emulated\" runs the same arithmetic in software); please report it");
  g_precision.store(MatmulPrecision::bf16);
}

void round_to_bf16(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_float(bf16_bits(x[i]));
}

}  // namespace cgan::kernels
