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
    const std::string what = "option '" + key + "'";
    bool flag = py::isinstance<py::bool_>(v) || py::isinstance(v, py::module_::import("numpy").attr("bool_"));
    // A bool is the number 1 or 0 (one_sided=True); the objective refuses it where it
    // wants a quantity (lambda_gp=True).
    if (flag) {
      o.num[key] = bool_value(v, what.c_str()) ? 1.0 : 0.0;
      o.flags.insert(key);
    } else if (py::isinstance<py::str>(v)) {
      o.str[key] = v.cast<std::string>();
    } else if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v) ||
               py::isinstance(v, py::module_::import("numbers").attr("Real"))) {
      o.num[key] = number_value(v, what.c_str());
    } else {
      throw ValueError(what + " must be a number or a string, got " + type_name(v));
    }
  }
  return o;
}

}  // namespace cgan::bind
