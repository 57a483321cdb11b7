#include "norm_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

namespace cgan::kernels {

namespace {
constexpr int64_t kBlock = 4096;

struct NCS {
  int64_t n, c, s;
};
NCS ncs_of(const Tensor& x) {
  const auto& sh = x.shape();
  int64_t s = 1;
  for (size_t i = 2; i < sh.size(); ++i) s *= sh[i];
  return {sh[0], sh[1], s};
}

// K per-channel sums: row_fn(c, n, acc) adds row (n, c, :)'s terms into acc[0..K). The rows
// of a channel are cut into blocks of about kBlock values; pieces are (channel, block), and
// the block partials are added in block order, so the result depends only on the shape.
template <int K, class RowFn>
void channel_sums(const NCS& d, RowFn row_fn, std::vector<double>* out) {
  const int64_t rb = std::max<int64_t>(1, (kBlock + d.s - 1) / d.s);
  const int64_t nb = (d.n + rb - 1) / rb;
  std::vector<double> part(static_cast<size_t>(d.c * nb * K), 0.0);
  parallel_range(d.c * nb, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c = t / nb, b = t % nb;
      double* acc = part.data() + t * K;
      for (int64_t n = b * rb; n < std::min(d.n, (b + 1) * rb); ++n) row_fn(c, n, acc);
    }
  }, d.n * d.c * d.s);
  for (int k = 0; k < K; ++k) out[k].assign(d.c, 0.0);
  for (int64_t c = 0; c < d.c; ++c)
    for (int64_t b = 0; b < nb; ++b)
      for (int k = 0; k < K; ++k) out[k][c] += part[(c * nb + b) * K + k];
}

// Fixed-order sums over n contiguous values (eight interleaved partials: vectorises).
template <class F>
double sum8(int64_t n, F f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += f(i + j);
  double tail = 0;
  for (; i < n; ++i) tail += f(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Elementwise over rows (n, c, :): f(c, in_row_offset) for each element; rows in parallel.
template <class F>
void for_channel_rows(const NCS& d, F f) {
  parallel_range(d.n * d.c, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) f(r % d.c, r * d.s);
  }, d.n * d.c * d.s);
}
}  // namespace

void channel_stats(const Tensor& x, std::vector<double>& mean, std::vector<double>& var) {
  const NCS d = ncs_of(x);
  const double count = double(d.n * d.s);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    std::vector<double> s[1];
    channel_sums<1>(d, [&](int64_t c, int64_t n, double* acc) {
      const T* row = a + (n * d.c + c) * d.s;
      acc[0] += sum8(d.s, [&](int64_t i) { return double(row[i]); });
    }, s);
    mean = s[0];
    for (double& m : mean) m /= count;
    std::vector<double> q[1];
    channel_sums<1>(d, [&](int64_t c, int64_t n, double* acc) {
      const T* row = a + (n * d.c + c) * d.s;
      const double m = mean[c];
      acc[0] += sum8(d.s, [&](int64_t i) { double v = double(row[i]) - m; return v * v; });
    }, q);
    var = q[0];
    for (double& v : var) v /= count;
  });
}

Tensor channel_affine(const Tensor& x, const std::vector<double>& scale,
                      const std::vector<double>& shift) {
  const NCS d = ncs_of(x);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* o = y.data<T>();
    for_channel_rows(d, [&](int64_t c, int64_t off) {
      const T sc = T(scale[c]), sh = T(shift[c]);
      const T* __restrict in = a + off;
      T* __restrict out = o + off;
      for (int64_t i = 0; i < d.s; ++i) out[i] = in[i] * sc + sh;
    });
  });
  return y;
}

void channel_grad_sums(const Tensor& g, const Tensor& x, const std::vector<double>& mean,
                       std::vector<double>& sum_g, std::vector<double>& sum_gx) {
  const NCS d = ncs_of(x);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    const T* gp = g.data<T>();
    std::vector<double> s[2];
    channel_sums<2>(d, [&](int64_t c, int64_t n, double* acc) {
      const int64_t off = (n * d.c + c) * d.s;
      const T* row = a + off;
      const T* grow = gp + off;
      const double m = mean[c];
      acc[0] += sum8(d.s, [&](int64_t i) { return double(grow[i]); });
      acc[1] += sum8(d.s, [&](int64_t i) { return double(grow[i]) * (double(row[i]) - m); });
    }, s);
    sum_g = std::move(s[0]);
    sum_gx = std::move(s[1]);
  });
}

Tensor channel_grad_input(const Tensor& g, const Tensor& x, const std::vector<double>& mean,
                          const std::vector<double>& a, const std::vector<double>& b,
                          const std::vector<double>& k) {
  const NCS d = ncs_of(x);
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* gp = g.data<T>();
    T* o = dx.data<T>();
    for_channel_rows(d, [&](int64_t c, int64_t off) {
      // a*g + k*(x - m) + b = a*g + k*x + (b - k*m)
      const T ac = T(a[c]), kc = T(k[c]), bc = T(b[c] - k[c] * mean[c]);
      const T* __restrict xr = xp + off;
      const T* __restrict gr = gp + off;
      T* __restrict out = o + off;
      for (int64_t i = 0; i < d.s; ++i) out[i] = ac * gr[i] + kc * xr[i] + bc;
    });
  });
  return dx;
}

namespace {
// Mean and 1 / sqrt(biased variance + eps) of one row (two passes, in double).
template <class T>
std::pair<double, double> row_moments(const T* row, int64_t D, double eps) {
  const double m = sum8(D, [&](int64_t i) { return double(row[i]); }) / double(D);
  const double v = sum8(D, [&](int64_t i) { double c = double(row[i]) - m; return c * c; }) / double(D);
  return {m, 1.0 / std::sqrt(v + eps)};
}
}  // namespace

void row_stats(const Tensor& x, int64_t D, double eps, std::vector<double>& mean,
               std::vector<double>& inv) {
  const int64_t M = D == 0 ? 0 : x.numel() / D;
  mean.assign(M, 0.0);
  inv.assign(M, 0.0);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    parallel_range(M, [&](int64_t r0, int64_t r1) {  // rows are independent
      for (int64_t r = r0; r < r1; ++r) std::tie(mean[r], inv[r]) = row_moments(a + r * D, D, eps);
    }, x.numel());
  });
}

Tensor row_normalize(const Tensor& x, int64_t D, const Tensor* w, const Tensor* b, double eps,
                     std::vector<double>& mean, std::vector<double>& inv) {
  const int64_t M = D == 0 ? 0 : x.numel() / D;
  mean.assign(M, 0.0);
  inv.assign(M, 0.0);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    const T* wp = w ? w->data<T>() : nullptr;
    const T* bp = b ? b->data<T>() : nullptr;
    T* o = y.data<T>();
    // Rows are independent.
    parallel_range(M, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* row = a + r * D;
        const auto [m, iv] = row_moments(row, D, eps);
        mean[r] = m;
        inv[r] = iv;
        const T mt = T(m), it = T(iv);
        T* out = o + r * D;
        for (int64_t i = 0; i < D; ++i) {
          T h = (row[i] - mt) * it;
          if (wp) h *= wp[i];
          if (bp) h += bp[i];
          out[i] = h;
        }
      }
    }, x.numel());
  });
  return y;
}

Tensor row_normalize_backward(const Tensor& g, const Tensor& x, int64_t D, const Tensor* w,
                              const std::vector<double>& mean, const std::vector<double>& inv,
                              Tensor* g_xhat) {
  const int64_t M = D == 0 ? 0 : x.numel() / D;
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  if (g_xhat) *g_xhat = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* gp = g.data<T>();
    const T* wp = w ? w->data<T>() : nullptr;
    T* o = dx.data<T>();
    T* gh = g_xhat ? g_xhat->data<T>() : nullptr;
    // Rows are independent. With gw = g * w and xc = x - mean:
    //   dx = inv * (gw - mean(gw)) - inv^3 * xc * mean(gw * xc)
    parallel_range(M, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = xp + r * D;
        const T* gr = gp + r * D;
        const double m = mean[r], iv = inv[r];
        auto gw = [&](int64_t i) { return wp ? double(gr[i]) * double(wp[i]) : double(gr[i]); };
        const double s1 = sum8(D, gw) / double(D);
        const double s2 = sum8(D, [&](int64_t i) { return gw(i) * (double(xr[i]) - m); }) / double(D);
        const T a = T(iv), k = T(-iv * iv * iv * s2), c = T(-iv * s1 + iv * iv * iv * s2 * m);
        T* out = o + r * D;
        for (int64_t i = 0; i < D; ++i) out[i] = a * T(gw(i)) + k * xr[i] + c;
        if (gh) {
          const T mt = T(m);
          for (int64_t i = 0; i < D; ++i) gh[r * D + i] = gr[i] * ((xr[i] - mt) * a);
        }
      }
    }, x.numel());
  });
  return dx;
}

Tensor row_normalize_second(const Tensor& u, const Tensor& h, const Tensor& x, int64_t D,
                            const std::vector<double>& mean, const std::vector<double>& inv) {
  const int64_t M = D == 0 ? 0 : x.numel() / D;
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T *up = u.data<T>(), *hp = h.data<T>(), *xp = x.data<T>();
    T* o = dx.data<T>();
    // Rows are independent: one pass for the five row means, one to write
    //   dx = K xc + A u + B h + C0.
    parallel_range(M, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *ur = up + r * D, *hr = hp + r * D, *xr = xp + r * D;
        const double m = mean[r], iv = inv[r], n = double(D);
        auto xc = [&](int64_t i) { return double(xr[i]) - m; };
        const double U = sum8(D, [&](int64_t i) { return double(ur[i]); }) / n;
        const double H = sum8(D, [&](int64_t i) { return double(hr[i]); }) / n;
        const double Uh = sum8(D, [&](int64_t i) { return double(ur[i]) * double(hr[i]); }) / n;
        const double Ux = sum8(D, [&](int64_t i) { return double(ur[i]) * xc(i); }) / n;
        const double s = sum8(D, [&](int64_t i) { return double(hr[i]) * xc(i); }) / n;
        const double r3 = iv * iv * iv;
        const T K = T(r3 * (3 * iv * iv * s * Ux - Uh + U * H)), A = T(-r3 * s), B = T(-r3 * Ux);
        const T C0 = T(r3 * (s * U + Ux * H) - r3 * (3 * iv * iv * s * Ux - Uh + U * H) * m);
        T* out = o + r * D;
        for (int64_t i = 0; i < D; ++i) out[i] = K * xr[i] + A * ur[i] + B * hr[i] + C0;
      }
    }, x.numel());
  });
  return dx;
}

}  // namespace cgan::kernels
