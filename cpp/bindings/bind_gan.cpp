#include "convert.hpp"
namespace cgan::bind { void bind_gan(py::module_&) {} }
