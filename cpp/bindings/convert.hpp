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
// A Python real number (int, float, NumPy scalar; not bool) as a double, else TypeError.
double number_value(py::handle v, const char* what);

// A NumPy array that shares the tensor's storage (no copy).
py::array to_numpy(const Tensor& t);

void bind_tensor(py::module_& m);
void bind_nn(py::module_& m);
void bind_optim(py::module_& m);
void bind_gan(py::module_& m);
void bind_losses(py::module_& m);
void bind_conv(py::module_& m);  // after bind_tensor: adds to its `ops` submodule

}  // namespace cgan::bind
