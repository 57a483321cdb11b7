// Python keyword arguments -> gan::ObjectiveOptions (numbers and strings apart), for
// every binding that builds an objective (cgan.losses.get, cgan.GAN(loss=..., **opts)).
#pragma once
#include "convert.hpp"
#include "gan/objective.hpp"
#include "tensor/errors.hpp"

namespace cgan::bind {

inline gan::ObjectiveOptions objective_options(const py::dict& kwargs) {
  gan::ObjectiveOptions o;
  for (auto item : kwargs) {
    std::string key = py::str(item.first);
    py::handle v = item.second;
    // bool is an int in Python: one_sided=True is the number 1.
    if (py::isinstance<py::str>(v)) o.str[key] = v.cast<std::string>();
    else if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) o.num[key] = v.cast<double>();
    else if (py::hasattr(v, "__float__") && !py::hasattr(v, "__len__")) o.num[key] = v.cast<double>();
    else
      throw ValueError("option '" + key + "' must be a number or a string, got " +
                       py::str(py::type::of(v)).cast<std::string>());
  }
  return o;
}

}  // namespace cgan::bind
