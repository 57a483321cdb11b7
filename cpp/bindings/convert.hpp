// NumPy <-> core conversions shared by every binding file.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "autograd/variable.hpp"

namespace py = pybind11;

namespace cgan::bind {

// None -> nothing; "float32"/np.float32/np.dtype(...) -> DType; anything else TypeError.
std::optional<DType> parse_dtype(py::handle dtype);
py::object dtype_object(DType dt);  // np.dtype for a DType

// Array-like -> Tensor. C-contiguous float32/float64 arrays are viewed without a copy;
// anything else real-valued (ints, bools, other layouts) is converted; complex, object
// and string arrays raise TypeError. `what` names the argument in error messages.
Tensor to_tensor(py::handle obj, std::optional<DType> dtype = std::nullopt,
                 const char* what = "input");
// A Tensor passes through; anything else goes through to_tensor as a constant.
Var to_var(py::handle obj, std::optional<DType> dtype = std::nullopt, const char* what = "input");
// A Python int (not bool) in [0, 2^64) as a seed; TypeError / ValueError otherwise.
uint64_t seed_value(py::handle seed, const char* what = "seed");
// A Python real number (int, float, NumPy scalar; not bool) as a double, else TypeError;
// an int beyond float64's range is a ValueError.
double number_value(py::handle v, const char* what);
// As number_value, and finite (ValueError for NaN and +-inf).
double finite_number_value(py::handle v, const char* what);
// A Python int or NumPy integer (not bool) that fits int64, else TypeError / ValueError.
int64_t index_value(py::handle v, const char* what);
// True/False or a NumPy bool, else TypeError: -1 or "yes" are not flags.
bool bool_value(py::handle v, const char* what);
// n words of a generator state: integers in [0, 2^64) (NumPy integer arrays or a list of
// Python ints); floats, NaN, negative or out-of-range words and wrong counts refused.
std::vector<uint64_t> rng_words(py::handle obj, size_t n, const char* what);
// "<class 'str'>" style name of obj's type, for messages.
std::string type_name(py::handle obj);

// Class labels: None -> null; a 1-D integer array-like -> indices (TypeError for floats,
// bools or other kinds, ValueError for another shape). Range checks are the caller's.
std::shared_ptr<const std::vector<int64_t>> labels_value(py::handle labels, const char* what = "labels");

// A NumPy array that shares the tensor's storage (no copy).
py::array to_numpy(const Tensor& t);

void bind_tensor(py::module_& m);
void bind_nn(py::module_& m);
void bind_optim(py::module_& m);
void bind_gan(py::module_& m);
void bind_losses(py::module_& m);
void bind_norm(py::module_& m);  // needs the ops submodule of bind_tensor
void bind_conv(py::module_& m);  // after bind_tensor: adds to its `ops` submodule

}  // namespace cgan::bind
