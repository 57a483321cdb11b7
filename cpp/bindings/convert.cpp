#include "convert.hpp"

namespace cgan::bind {

std::optional<DType> parse_dtype(py::handle dtype) {
  if (dtype.is_none()) return std::nullopt;
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
  } catch (py::error_already_set&) {
    throw TypeError("dtype must be float32 or float64, got " + py::repr(dtype).cast<std::string>());
  }
  if (dt.is(py::dtype::of<float>()) || dt.equal(py::dtype::of<float>())) return DType::f32;
  if (dt.equal(py::dtype::of<double>())) return DType::f64;
  throw TypeError("dtype must be float32 or float64, got " + py::str(dt).cast<std::string>());
}

py::object dtype_object(DType dt) {
  return dt == DType::f32 ? py::object(py::dtype::of<float>()) : py::object(py::dtype::of<double>());
}

namespace {
template <class T>
Tensor view_of(py::handle obj, const char* what) {
  // forcecast converts ints/bools/other floats; c_style copies non-contiguous input.
  // An array that is already C-contiguous of type T comes back as the same object.
  auto arr = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!arr) throw py::error_already_set();
  if (arr.ndim() > 4)
    throw ValueError(std::string(what) + ": at most 4 axes are supported, got " +
                     std::to_string(arr.ndim()));
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  auto* keep = new py::object(arr);
  std::shared_ptr<void> owner(keep, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  return Tensor::external(const_cast<T*>(arr.data()), shape, dtype_of<T>(), std::move(owner));
}
}  // namespace

Tensor to_tensor(py::handle obj, std::optional<DType> dtype, const char* what) {
  if (py::isinstance<Var>(obj)) {
    Tensor t = obj.cast<Var>().data();
    return dtype && *dtype != t.dtype() ? t.to(*dtype) : t;
  }
  py::array arr;
  try {
    arr = py::array::ensure(obj);
  } catch (py::error_already_set&) {
  }
  if (!arr) throw TypeError(std::string(what) + ": expected an array-like of numbers, got " +
                            py::str(py::type::of(obj)).cast<std::string>());
  char kind = arr.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
    throw TypeError(std::string(what) + ": expected real numbers, got an array of dtype " +
                    py::str(arr.dtype()).cast<std::string>());
  DType dt = dtype ? *dtype : (arr.dtype().equal(py::dtype::of<double>()) ? DType::f64 : DType::f32);
  return dt == DType::f32 ? view_of<float>(arr, what) : view_of<double>(arr, what);
}

Var to_var(py::handle obj, std::optional<DType> dtype, const char* what) {
  if (py::isinstance<Var>(obj)) {
    Var v = obj.cast<Var>();
    if (dtype && v.dtype() != *dtype) throw TypeError(std::string(what) + ": expected dtype " +
                                                      dtype_name(*dtype) + ", got " + dtype_name(v.dtype()));
    return v;
  }
  return Var(to_tensor(obj, dtype, what), false);
}

py::array to_numpy(const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t s = static_cast<py::ssize_t>(dtype_size(t.dtype()));
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
  // The capsule holds a reference to the storage: the array keeps it alive.
  auto* keep = new std::shared_ptr<void>(t.owner());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<void>*>(p); });
  return py::array(py::dtype(t.dtype() == DType::f32 ? "float32" : "float64"), shape, strides,
                   t.raw(), base);
}

}  // namespace cgan::bind
