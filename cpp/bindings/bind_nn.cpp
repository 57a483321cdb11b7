#include "convert.hpp"
namespace cgan::bind { void bind_nn(py::module_&) {} }
