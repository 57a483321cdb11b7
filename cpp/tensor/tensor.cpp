#include "tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <sstream>

namespace cgan {

const char* dtype_name(DType dt) { return dt == DType::f32 ? "float32" : "float64"; }

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ",";
  o << ")";
  return o.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (d < 0) throw ValueError("negative dimension in shape " + shape_str(s));
  for (int64_t d : s) {
    // A product that overflows would wrap (UB) to a small numel and undersize the buffer.
    if (__builtin_mul_overflow(n, d, &n) || n > INT64_MAX / 8)
      throw ValueError("shape " + shape_str(s) + " has too many elements");
  }
  return n;
}

// ---- buffer pool ---------------------------------------------------------------
// Freed buffers are parked by exact byte size and handed out again. A training step
// allocates the same set of sizes every time, so after the first step almost every
// allocation is a pool hit. The pool is bounded so that it never holds much memory.
namespace {
// std::bad_alloc (MemoryError in Python) that says how much was asked for.
struct OutOfMemory : std::bad_alloc {
  explicit OutOfMemory(size_t bytes)
      : msg("cannot allocate " + std::to_string(bytes) + " bytes for a tensor") {}
  const char* what() const noexcept override { return msg.c_str(); }
  std::string msg;
};

constexpr size_t kAlign = 64;                     // cache line / AVX-512 alignment
constexpr size_t kPoolLimit = size_t(512) << 20;  // never park more than 512 MiB

struct Pool {
  std::mutex mu;
  std::multimap<size_t, void*> free;
  size_t cached = 0;
  size_t live = 0;

  void* get(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu);
      live += bytes;
      auto it = free.find(bytes);
      if (it != free.end()) {
        void* p = it->second;
        free.erase(it);
        cached -= bytes;
        return p;
      }
    }
    size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
    void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
    if (!p) {
      // A failed request must not stay counted as live memory.
      std::lock_guard<std::mutex> lock(mu);
      live -= bytes;
      throw OutOfMemory(bytes);
    }
    return p;
  }
  void put(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    live -= bytes;
    if (cached + bytes > kPoolLimit) {
      std::free(p);
      return;
    }
    free.emplace(bytes, p);
    cached += bytes;
  }
};

Pool& pool() {
  // Leaked on purpose: tensors may be released during interpreter shutdown.
  static Pool* p = new Pool();
  return *p;
}
}  // namespace

size_t pool_cached_bytes() {
  std::lock_guard<std::mutex> lock(pool().mu);
  return pool().cached;
}
size_t pool_live_bytes() {
  std::lock_guard<std::mutex> lock(pool().mu);
  return pool().live;
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  size_t bytes = t.nbytes();
  void* p = pool().get(bytes);
  t.data_ = p;
  t.owner_ = std::shared_ptr<void>(p, [bytes](void* q) { pool().put(q, bytes); });
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = t.data<T>();
    for (int64_t i = 0; i < t.numel_; ++i) d[i] = static_cast<T>(value);
  });
  return t;
}

Tensor Tensor::external(void* data, const Shape& shape, DType dtype, std::shared_ptr<void> owner) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  t.data_ = data;
  t.owner_ = std::move(owner);
  return t;
}

int64_t Tensor::size(int64_t axis) const {
  int64_t n = ndim();
  if (axis < 0) axis += n;
  if (axis < 0 || axis >= n)
    throw ValueError("axis out of range for a tensor of shape " + shape_str(shape_));
  return shape_[axis];
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape_numel(shape) != numel_)
    throw ValueError("cannot reshape a tensor of shape " + shape_str(shape_) + " to " +
                     shape_str(shape));
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  if (numel_) std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t = empty(shape_, dtype);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.shape_ != shape_)
    throw ValueError("copy: shape " + shape_str(src.shape_) + " does not match " +
                     shape_str(shape_));
  if (src.dtype_ == dtype_) {
    if (numel_) std::memmove(data_, src.data_, nbytes());
    return;
  }
  dispatch(dtype_, [&](auto dst_tag) {
    using D = decltype(dst_tag);
    dispatch(src.dtype_, [&](auto src_tag) {
      using S = decltype(src_tag);
      const S* s = src.data<S>();
      D* d = data<D>();
      for (int64_t i = 0; i < numel_; ++i) d[i] = static_cast<D>(s[i]);
    });
  });
}

double Tensor::item() const {
  if (numel_ != 1)
    throw ValueError("item() needs a tensor with one element, got shape " + shape_str(shape_));
  return dispatch(dtype_, [&](auto tag) { return static_cast<double>(data<decltype(tag)>()[0]); });
}

}  // namespace cgan
