#include "convert.hpp"

#include <unistd.h>

#include <cmath>

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
// The MemoryError NumPy raised (or one of ours), its message naming the argument.
[[noreturn]] void memory_error(const std::string& msg) {
  PyErr_SetString(PyExc_MemoryError, msg.c_str());
  throw py::error_already_set();
}

template <class T>
Tensor view_of(py::array arr, const char* what) {
  // Converts ints/bools/other floats and copies non-contiguous input; an array that is
  // already C-contiguous of type T comes back as the same object. (array_t::ensure
  // would clear NumPy's error, MemoryError included, and leave nothing to report.)
  py::array conv;
  try {
    conv = py::module_::import("numpy").attr("asarray")(arr, py::dtype::of<T>(), "C");
  } catch (py::error_already_set& e) {
    if (e.matches(PyExc_MemoryError))
      memory_error(std::string(what) + ": not enough memory to convert the array to " +
                   dtype_name(dtype_of<T>()) + " (" + e.what() + ")");
    throw TypeError(std::string(what) + ": cannot convert the array to " +
                    dtype_name(dtype_of<T>()) + " (" + e.what() + ")");
  }
  Shape shape(conv.shape(), conv.shape() + conv.ndim());
  auto* keep = new py::object(conv);
  std::shared_ptr<void> owner(keep, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  // Read-only input stays read-only in NumPy; cgan.tensor copies it before anyone writes.
  return Tensor::external(const_cast<T*>(static_cast<const T*>(conv.data())), shape, dtype_of<T>(),
                          std::move(owner));
}

// Bytes of physical memory (0 if unknown): no conversion may need more.
uint64_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

// Refuses, from the shape alone and before any element is read, an array that has too
// many axes or whose converted copy could not fit in memory (a broadcast view of 2^40
// elements takes no memory itself but would be scanned and copied element by element).
void check_size(const py::array& arr, DType dt, const char* what) {
  if (arr.ndim() > 4)
    throw ValueError(std::string(what) + ": at most 4 axes are supported, got " +
                     std::to_string(arr.ndim()));
  bool view_only = arr.dtype().equal(dt == DType::f32 ? py::dtype::of<float>() : py::dtype::of<double>()) &&
                   (arr.flags() & py::array::c_style);
  if (view_only) return;  // shared, not copied
  long double bytes = dtype_size(dt);
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) bytes *= static_cast<long double>(arr.shape(i));
  uint64_t mem = physical_memory();
  if (mem && bytes > static_cast<long double>(mem)) {
    std::string shape = py::str(arr.attr("shape")).cast<std::string>();
    memory_error(std::string(what) + ": an array of shape " + shape + " needs " +
                 std::to_string(static_cast<unsigned long long>(bytes)) + " bytes as " +
                 dtype_name(dt) + ", more than this machine's " + std::to_string(mem) + " bytes of memory");
  }
}

// The array with every zero-stride (broadcast) axis cut to length 1: the same set of
// values, each read once.
py::array distinct_elements(const py::array& arr) {
  bool any = false;
  py::tuple index(arr.ndim());
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    bool broadcast = arr.strides(i) == 0 && arr.shape(i) > 1;
    any |= broadcast;
    index[i] = broadcast ? py::slice(0, 1, 1) : py::slice(py::none(), py::none(), py::none());
  }
  return any ? py::array(arr[index]) : arr;
}

// Integers convert only while every value is exactly representable (|v| <= 2^24 in
// float32, 2^53 in float64): a silently rounded label or count would be a wrong result.
void check_exact_integers(const py::array& arr, DType dt, const char* what) {
  if (arr.size() == 0) return;
  const int bits = dt == DType::f32 ? 24 : 53;
  const py::int_ limit(int64_t(1) << bits), neg_limit(-(int64_t(1) << bits));
  py::array values = distinct_elements(arr);
  py::int_ lo(values.attr("min")()), hi(values.attr("max")());
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
  check_size(arr, dt, what);
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

std::string type_name(py::handle obj) { return py::str(py::type::of(obj)).cast<std::string>(); }

uint64_t seed_value(py::handle seed, const char* what) {
  if (py::isinstance<py::bool_>(seed) || !py::hasattr(seed, "__index__"))
    throw TypeError(std::string(what) + " must be an integer, got " + type_name(seed));
  py::int_ v(py::reinterpret_steal<py::object>(PyNumber_Index(seed.ptr())));
  if (v < py::int_(0) || v > py::int_(UINT64_MAX))
    throw ValueError(std::string(what) + " must be in [0, 2**64), got " + py::str(v).cast<std::string>());
  return v.cast<uint64_t>();
}

int64_t index_value(py::handle v, const char* what) {
  if (py::isinstance<py::bool_>(v) || py::isinstance(v, py::module_::import("numpy").attr("bool_")) ||
      !py::hasattr(v, "__index__"))
    throw TypeError(std::string(what) + " must be an integer, got " + type_name(v));
  py::int_ i(py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr())));
  if (i < py::int_(INT64_MIN) || i > py::int_(INT64_MAX))
    throw ValueError(std::string(what) + " must be an integer in [-2**63, 2**63), got " +
                     py::str(i).cast<std::string>());
  return i.cast<int64_t>();
}

bool bool_value(py::handle v, const char* what) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance(v, py::module_::import("numpy").attr("bool_"))) return PyObject_IsTrue(v.ptr()) == 1;
  throw TypeError(std::string(what) + " must be True or False, got " + type_name(v) + " " +
                  py::repr(v).cast<std::string>());
}

double number_value(py::handle v, const char* what) {
  bool real = py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v) ||
              py::isinstance(v, py::module_::import("numbers").attr("Real"));
  if (py::isinstance<py::bool_>(v) || py::isinstance(v, py::module_::import("numpy").attr("bool_")) ||
      !real)
    throw TypeError(std::string(what) + " must be a number, got " + type_name(v));
  double d = PyFloat_AsDouble(v.ptr());
  if (d == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();  // OverflowError of an int beyond 1.8e308
    throw ValueError(std::string(what) + " is too large to be a float64 number");
  }
  return d;
}

double finite_number_value(py::handle v, const char* what) {
  double d = number_value(v, what);
  if (!std::isfinite(d))
    throw ValueError(std::string(what) + " must be a finite number, got " + py::repr(v).cast<std::string>());
  return d;
}

std::vector<uint64_t> rng_words(py::handle obj, size_t n, const char* what) {
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {  // Python ints, each checked
    std::vector<uint64_t> out;
    for (py::handle h : obj) out.push_back(seed_value(h, what));
    if (out.size() != n)
      throw ValueError(std::string(what) + ": expected " + std::to_string(n) + " words, got " +
                       std::to_string(out.size()));
    return out;
  }
  py::array arr;
  try {
    arr = py::array::ensure(obj);
  } catch (py::error_already_set&) {
  }
  if (!arr) throw TypeError(std::string(what) + ": expected " + std::to_string(n) +
                            " unsigned 64-bit integers, got " + type_name(obj));
  char kind = arr.dtype().kind();
  if (kind != 'u' && kind != 'i')
    throw TypeError(std::string(what) + ": expected unsigned 64-bit integer words, got an array of dtype " +
                    py::str(arr.dtype()).cast<std::string>());
  if (arr.ndim() != 1 || size_t(arr.size()) != n)
    throw ValueError(std::string(what) + ": expected " + std::to_string(n) + " words, got shape " +
                     py::str(py::tuple(arr.attr("shape"))).cast<std::string>());
  std::vector<uint64_t> out;
  for (py::handle h : arr.attr("tolist")()) out.push_back(seed_value(h, what));
  return out;
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
