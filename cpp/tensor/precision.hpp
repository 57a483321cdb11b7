// The precision of matrix products and convolutions (cgan.set_matmul_precision), and the
// CPU features a reduced-precision mode needs, detected at run time with cpuid.
//
// "float32" (the default) is the only mode with kernels today. "bf16" (bfloat16 products,
// float32 accumulation and master weights) needs AVX512_BF16 or AMX-BF16 and kernels for
// them; setting it reports which of the two is missing, and leaves the precision unchanged.
#pragma once
#include <string>

namespace cgan::kernels {

struct CpuFeatures {
  bool avx2_fma = false;     // AVX2 and FMA3 (the float32 kernels' instruction set)
  bool avx512f = false;      // AVX-512 Foundation, with the OS saving the ZMM state
  bool avx512_bf16 = false;  // VDPBF16PS (bfloat16 dot products into float32)
  bool amx_bf16 = false;     // AMX tiles with bfloat16 TDPBF16PS, with the OS saving tile state
};

// What this CPU (and OS) supports; detected once.
const CpuFeatures& cpu_features();

enum class MatmulPrecision { float32, bf16 };

// The mode's name: "float32" or "bf16".
std::string matmul_precision_name(MatmulPrecision p);
MatmulPrecision get_matmul_precision();
// Sets the mode by name. ValueError for an unknown name (listing the valid ones);
// RuntimeError naming the missing CPU feature (or kernels) when the mode cannot run
// here, in which case the current mode stays.
void set_matmul_precision(const std::string& name);

}  // namespace cgan::kernels
