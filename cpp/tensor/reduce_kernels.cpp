#include "reduce_kernels.hpp"

#include <algorithm>

namespace cgan::kernels {

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    int64_t ax = a < 0 ? a + ndim : a;
    if (ax < 0 || ax >= ndim)
      throw ValueError(std::string(op) + ": axis " + std::to_string(a) +
                       " is out of range for a tensor with " + std::to_string(ndim) + " axes");
    if (std::find(out.begin(), out.end(), ax) != out.end())
      throw ValueError(std::string(op) + ": axis " + std::to_string(a) +
                       " is given more than once (each axis at most once)");
    out.push_back(ax);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Shape reduced_shape(const Shape& s, const std::vector<int64_t>& axes, bool keepdim) {
  Shape out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool red = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (!red) out.push_back(s[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

namespace {
constexpr int64_t kBlock = 4096;

// Sum of n contiguous values in double, eight interleaved partial sums (vectorises),
// combined in a fixed order.
template <class T>
double contiguous_sum(const T* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += static_cast<double>(x[i + j]);
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(x[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Merged groups of axes: (size, stride in elements) for the outer kept and the outer
// reduced groups, and the innermost group (contiguous, length `inner`), reduced or kept.
struct Layout {
  std::vector<std::pair<int64_t, int64_t>> kept, red;  // outer groups, outermost first
  int64_t inner = 1;
  bool inner_reduced = false;
  int64_t kept_count() const { int64_t n = 1; for (auto& g : kept) n *= g.first; return n; }
  int64_t red_count() const { int64_t n = 1; for (auto& g : red) n *= g.first; return n; }
};

// Offset of flat index i of the groups gs (row-major over their sizes).
int64_t offset_of(int64_t i, const std::vector<std::pair<int64_t, int64_t>>& gs) {
  int64_t off = 0;
  for (size_t k = gs.size(); k-- > 0;) {
    off += (i % gs[k].first) * gs[k].second;
    i /= gs[k].first;
  }
  return off;
}

Layout layout_of(const Shape& s, const std::vector<int64_t>& axes) {
  // Drop size-1 axes, merge neighbours of the same kind.
  std::vector<std::pair<int64_t, bool>> groups;  // (size, reduced)
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 1) continue;
    bool red = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (!groups.empty() && groups.back().second == red) groups.back().first *= s[i];
    else groups.push_back({s[i], red});
  }
  Layout L;
  if (groups.empty()) return L;
  int64_t stride = 1;
  std::vector<int64_t> strides(groups.size());
  for (size_t k = groups.size(); k-- > 0;) {
    strides[k] = stride;
    stride *= groups[k].first;
  }
  L.inner = groups.back().first;
  L.inner_reduced = groups.back().second;
  for (size_t k = 0; k + 1 < groups.size(); ++k)
    (groups[k].second ? L.red : L.kept).push_back({groups[k].first, strides[k]});
  return L;
}

template <class T>
void sum_axes_into(const T* x, const Layout& L, T* out, int64_t numel) {
  const int64_t ko_n = L.kept_count(), r_n = L.red_count();
  // Kept inner axis: columns of the rows are chunked too, so that a wide (R, K) sum has
  // pieces and its partial buffer stays a fraction of the input.
  const int64_t width = L.inner_reduced ? 1 : L.inner;  // outputs per (outer kept index)
  const int64_t cw = L.inner_reduced ? 1 : std::min<int64_t>(width, 1024);
  const int64_t ncw = (width + cw - 1) / cw;
  const int64_t seg = L.inner_reduced ? L.inner : cw;  // values read per row of a piece
  const int64_t rb = std::max<int64_t>(1, (kBlock + seg - 1) / seg);  // rows per block
  const int64_t nrb = (r_n + rb - 1) / rb;
  // partial[((ko * nrb) + b) * width + col]
  std::vector<double> part(static_cast<size_t>(ko_n * nrb * width), 0.0);
  // Pieces are (outer kept index, column chunk, row block): each writes its own partials.
  parallel_range(ko_n * ncw * nrb, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t % nrb, ch = (t / nrb) % ncw, ko = t / (nrb * ncw);
      const int64_t kofs = offset_of(ko, L.kept);
      double* p = part.data() + (ko * nrb + b) * width;
      const int64_t r_end = std::min(r_n, (b + 1) * rb);
      for (int64_t r = b * rb; r < r_end; ++r) {
        const T* row = x + kofs + offset_of(r, L.red);
        if (L.inner_reduced) {
          p[0] += contiguous_sum(row, L.inner);
        } else {
          const int64_t c0 = ch * cw, c1 = std::min(width, c0 + cw);
          double* __restrict pp = p;
          const T* __restrict rr = row;
          for (int64_t c = c0; c < c1; ++c) pp[c] += static_cast<double>(rr[c]);
        }
      }
    }
  }, numel);
  // Block partials combined in block order (outputs are independent).
  parallel_range(ko_n * width, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const int64_t ko = o / width, c = o % width;
      double s = 0;
      for (int64_t b = 0; b < nrb; ++b) s += part[(ko * nrb + b) * width + c];
      out[o] = static_cast<T>(s);
    }
  }, ko_n * width * nrb);
}
}  // namespace

Tensor sum_axes(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  Shape os = reduced_shape(x.shape(), axes, keepdim);
  if (axes.empty()) return x.clone().reshape(os);
  if (x.numel() == 0 || shape_numel(os) == 0) return Tensor::zeros(os, x.dtype());
  Tensor out = Tensor::empty(os, x.dtype());
  Layout L = layout_of(x.shape(), axes);
  if (L.red.empty() && !L.inner_reduced) {  // only size-1 axes reduced: a copy
    out.copy_from(x.reshape(os));
    return out;
  }
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    sum_axes_into(x.data<T>(), L, out.data<T>(), x.numel());
  });
  return out;
}

// ---- nearest-neighbour resampling ----------------------------------------------------

Tensor upsample_nearest(const Tensor& x, int64_t sh, int64_t sw) {
  const auto& s = x.shape();
  const int64_t planes = s[0] * s[1], H = s[2], W = s[3], Wo = W * sw;
  Tensor y = Tensor::empty({s[0], s[1], H * sh, Wo}, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* o = y.data<T>();
    // Output rows are independent: parallel over (plane, input row).
    parallel_range(planes * H, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* in = a + r * W;
        T* first = o + r * sh * Wo;
        for (int64_t j = 0; j < W; ++j)
          for (int64_t b = 0; b < sw; ++b) first[j * sw + b] = in[j];
        for (int64_t k = 1; k < sh; ++k) std::copy(first, first + Wo, first + k * Wo);
      }
    }, y.numel());
  });
  return y;
}

Tensor block_sum(const Tensor& y, int64_t sh, int64_t sw) {
  const auto& s = y.shape();
  const int64_t planes = s[0] * s[1], H = s[2] / sh, W = s[3] / sw, Wi = s[3];
  Tensor x = Tensor::empty({s[0], s[1], H, W}, y.dtype());
  dispatch(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = y.data<T>();
    T* o = x.data<T>();
    // Output rows are independent: parallel over (plane, output row); each block is
    // summed in double in row-major order.
    parallel_range(planes * H, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* in = a + r * sh * Wi;
        for (int64_t j = 0; j < W; ++j) {
          double acc = 0;
          for (int64_t k = 0; k < sh; ++k)
            for (int64_t b = 0; b < sw; ++b) acc += static_cast<double>(in[k * Wi + j * sw + b]);
          o[r * W + j] = static_cast<T>(acc);
        }
      }
    }, y.numel());
  });
  return x;
}

}  // namespace cgan::kernels
