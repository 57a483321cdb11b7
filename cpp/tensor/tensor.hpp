// Tensor: contiguous, row-major, batch-first storage of float32 or float64 values.
// A Tensor is a cheap handle: copies share storage. Storage comes from a small pool
// so that the per-step temporaries of a training loop do not hit malloc every time.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "errors.hpp"

namespace cgan {

enum class DType { f32, f64 };
using Shape = std::vector<int64_t>;

const char* dtype_name(DType dt);
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
inline size_t dtype_size(DType dt) { return dt == DType::f32 ? 4 : 8; }

class Tensor {
 public:
  Tensor() = default;

  // Uninitialised / filled storage from the pool.
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  static Tensor full(const Shape& shape, double value, DType dtype);
  static Tensor scalar(double value, DType dtype) { return full({}, value, dtype); }
  // A view of memory owned by someone else (a NumPy array); `owner` keeps it alive.
  static Tensor external(void* data, const Shape& shape, DType dtype, std::shared_ptr<void> owner);

  bool defined() const { return data_ != nullptr || (owner_ && numel_ == 0); }
  const Shape& shape() const { return shape_; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  template <class T> T* data() const { return static_cast<T*>(data_); }
  void* raw() const { return data_; }
  const std::shared_ptr<void>& owner() const { return owner_; }

  // Same storage, new shape (numel must agree).
  Tensor reshape(const Shape& shape) const;
  // Fresh storage with the same values.
  Tensor clone() const;
  // Values converted to another dtype (a clone when the dtype is the same).
  Tensor to(DType dtype) const;
  // Copy values from `src` (same shape, any dtype) into this storage.
  void copy_from(const Tensor& src);
  // The value of a one-element tensor.
  double item() const;

 private:
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::f32;
  int64_t numel_ = 0;
};

// Calls f(T{}) with T = float or double according to dtype.
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
  if (dtype == DType::f32) return f(float{});
  return f(double{});
}

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }

// Bytes currently parked in the buffer pool (for leak tests).
size_t pool_cached_bytes();
// Bytes currently handed out by the pool and not yet returned.
size_t pool_live_bytes();

}  // namespace cgan
