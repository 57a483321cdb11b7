#include "convert.hpp"

#include "tensor/parallel.hpp"

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


// Integers convert only while every value is exactly representable (|v| <= 2^24 in
// float32, 2^53 in float64): a silently rounded label or count would be a wrong result.
void check_exact_integers(const py::array& arr, DType dt, const char* what) {
  if (arr.size() == 0) return;
  const int bits = dt == DType::f32 ? 24 : 53;
  const py::int_ limit(int64_t(1) << bits), neg_limit(-(int64_t(1) << bits));
  py::int_ lo(arr.attr("min")()), hi(arr.attr("max")());
  if (hi > limit || lo < neg_limit)
    throw TypeError(std::string(what) + ": integer values beyond +-2^" + std::to_string(bits) +
                    " are not exactly representable in " + dtype_name(dt) +
                    "; convert the array to floating point yourself (e.g. .astype(float))");
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
  // Without a dtype asked for: float64 (also big-endian or long double) stays 64-bit,
  // everything else becomes float32.
  DType dt = dtype ? *dtype : (kind == 'f' && arr.dtype().itemsize() >= 8 ? DType::f64 : DType::f32);
  if (kind == 'i' || kind == 'u') check_exact_integers(arr, dt, what);
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

uint64_t seed_value(py::handle seed, const char* what) {
  if (py::isinstance<py::bool_>(seed) || !py::hasattr(seed, "__index__"))
    throw TypeError(std::string(what) + " must be an integer, got " +
                    py::str(py::type::of(seed)).cast<std::string>());
  py::int_ v(py::reinterpret_steal<py::object>(PyNumber_Index(seed.ptr())));
  if (v < py::int_(0) || v > py::int_(UINT64_MAX))
    throw ValueError(std::string(what) + " must be in [0, 2**64), got " + py::str(v).cast<std::string>());
  return v.cast<uint64_t>();
}

double number_value(py::handle v, const char* what) {
  bool real = py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v) ||
              py::isinstance(v, py::module_::import("numbers").attr("Real"));
  if (py::isinstance<py::bool_>(v) || !real)
    throw TypeError(std::string(what) + " must be a number, got " +
                    py::str(py::type::of(v)).cast<std::string>());
  return v.cast<double>();
}

std::shared_ptr<const std::vector<int64_t>> labels_value(py::handle labels, const char* what) {
  if (labels.is_none()) return nullptr;
  py::object np = py::module_::import("numpy");
  py::array a = np.attr("asarray")(labels);
  std::string kind = py::str(a.dtype().attr("kind")).cast<std::string>();
  if (kind != "i" && kind != "u")
    throw TypeError(std::string(what) + " must be integers, got an array of dtype " +
                    py::str(a.dtype()).cast<std::string>());
  if (a.ndim() != 1)
    throw ValueError(std::string(what) + " must be a 1-D array of class indices, got shape " +
                     py::str(a.attr("shape")).cast<std::string>());
  py::array_t<int64_t, py::array::c_style | py::array::forcecast> ints(a);
  return std::make_shared<const std::vector<int64_t>>(ints.data(), ints.data() + ints.size());
}

}  // namespace cgan::bind
