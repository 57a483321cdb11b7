// Fused kernels of batch and layer normalisation (forward and first-order backward).
// Statistics are accumulated in double with a fixed order (two passes: mean, then the
// centred squares), so results are bitwise repeatable for any thread count.
#pragma once
#include <vector>

#include "parallel.hpp"
#include "tensor.hpp"

namespace cgan::kernels {

// ---- per-channel: x viewed as (N, C, S), statistics of channel c over (n, s) ----------

// Per-channel mean and biased variance.
void channel_stats(const Tensor& x, std::vector<double>& mean, std::vector<double>& var);
// y = x * scale[c] + shift[c].
Tensor channel_affine(const Tensor& x, const std::vector<double>& scale,
                      const std::vector<double>& shift);
// Per channel: sum of g and sum of g * (x - mean[c]) (one pass over g and x).
void channel_grad_sums(const Tensor& g, const Tensor& x, const std::vector<double>& mean,
                       std::vector<double>& sum_g, std::vector<double>& sum_gx);
// dx = a[c] * g + b[c] + k[c] * (x - mean[c]).
Tensor channel_grad_input(const Tensor& g, const Tensor& x, const std::vector<double>& mean,
                          const std::vector<double>& a, const std::vector<double>& b,
                          const std::vector<double>& k);

// ---- per-row: x viewed as (M, D), statistics of row m over its D values -------------

// y[m, d] = (x[m, d] - mean[m]) * inv[m] * w[d] + b[d], inv = 1 / sqrt(var + eps); w and b
// (D values, x's dtype) may be null. Fills mean and inv (M values).
Tensor row_normalize(const Tensor& x, int64_t D, const Tensor* w, const Tensor* b, double eps,
                     std::vector<double>& mean, std::vector<double>& inv);
// Input gradient of row_normalize, and g * x_hat (for the weight's gradient, when wanted).
Tensor row_normalize_backward(const Tensor& g, const Tensor& x, int64_t D, const Tensor* w,
                              const std::vector<double>& mean, const std::vector<double>& inv,
                              Tensor* g_xhat);
// Mean and inv = 1 / sqrt(var + eps) of each row (M values each), as row_normalize fills them.
void row_stats(const Tensor& x, int64_t D, double eps, std::vector<double>& mean,
               std::vector<double>& inv);
// The second derivative of row normalisation, for double backward. With J(x) the Jacobian
// of x_hat (symmetric), row_normalize_backward without w is h -> J(x) h; this is the
// gradient of <u, J(x) h> with respect to x, per row (xc = x - mean, r = inv, U = mean(u),
// H = mean(h), Uh = mean(u h), Ux = mean(u xc), s = mean(h xc)):
//   r^3 [(3 r^2 s Ux - Uh + U H) xc - s (u - U) - Ux (h - H)]
Tensor row_normalize_second(const Tensor& u, const Tensor& h, const Tensor& x, int64_t D,
                            const std::vector<double>& mean, const std::vector<double>& inv);

}  // namespace cgan::kernels
