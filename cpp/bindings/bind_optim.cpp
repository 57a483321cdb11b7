#include "convert.hpp"
namespace cgan::bind { void bind_optim(py::module_&) {} }
