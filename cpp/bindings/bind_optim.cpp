// cgan._core.optim: SGD, Adam, RMSprop and weight clipping.
#include "convert.hpp"
#include "optim/optimizer.hpp"
#include "tensor/kernels.hpp"
#include "tensor/parallel.hpp"

namespace cgan::bind {

using namespace pybind11::literals;
using optim::Optimizer;

namespace {
std::vector<Var> param_list(py::handle params) {
  std::vector<Var> out;
  if (py::isinstance<Var>(params)) return {params.cast<Var>()};
  for (py::handle h : params) {
    if (!py::isinstance<Var>(h))
      throw TypeError("optimizer: parameters must be cgan.Tensor objects, got " +
                      py::str(py::type::of(h)).cast<std::string>());
    out.push_back(h.cast<Var>());
  }
  return out;
}

std::pair<double, double> betas_of(py::handle betas) {
  if (!py::isinstance<py::sequence>(betas) || py::isinstance<py::str>(betas))
    throw TypeError("betas must be a pair of numbers (beta1, beta2), got " + type_name(betas));
  auto seq = py::reinterpret_borrow<py::sequence>(betas);
  if (seq.size() != 2) throw ValueError("betas must be a pair (beta1, beta2)");
  return {number_value(seq[0], "betas[0]"), number_value(seq[1], "betas[1]")};
}

// A state dict as saved by state_dict(): every buffer finite, 'steps' a non-negative int.
std::pair<optim::State, int64_t> state_of(py::dict d) {
  optim::State s;
  int64_t steps = 0;
  for (auto item : d) {
    if (!py::isinstance<py::str>(item.first))
      throw TypeError("optimizer state: keys must be strings");
    std::string k = py::str(item.first);
    if (k == "steps") {
      py::object v = py::reinterpret_borrow<py::object>(item.second);
      if (py::isinstance<py::array>(v) && py::array(v).ndim() == 0) v = v.attr("item")();
      uint64_t u = seed_value(v, "optimizer state: 'steps'");
      if (u > uint64_t(INT64_MAX)) throw ValueError("optimizer state: 'steps' is too large");
      steps = int64_t(u);
      continue;
    }
    Tensor t = to_tensor(item.second, std::nullopt, k.c_str()).clone();
    if (!kernels::all_finite(t))
      throw ValueError("optimizer state: '" + k + "' contains NaN or infinite values");
    s[k] = t;
  }
  return {s, steps};
}
}  // namespace

void bind_optim(py::module_& m) {
  py::module_ o = m.def_submodule("optim", "Optimizers.");
  py::class_<Optimizer, std::shared_ptr<Optimizer>>(o, "Optimizer")
      .def("step", [](Optimizer& opt) {
             py::gil_scoped_release nogil;
             opt.step();
           }, "Updates every parameter that has a .grad, in place.")
      .def("zero_grad", &Optimizer::zero_grad, "Sets every parameter's .grad to None.")
      .def_property("lr", &Optimizer::lr, [](Optimizer& opt, py::handle lr) {
             opt.set_lr(number_value(lr, "lr"));
           })
      .def_property_readonly("steps", &Optimizer::steps)
      .def_property_readonly("params", &Optimizer::params)
      .def("state_dict", [](const Optimizer& opt) {
             py::dict d;
             for (auto& [k, t] : opt.state()) d[py::str(k)] = to_numpy(t);
             d["steps"] = py::int_(opt.steps());
             return d;
           }, "Per-parameter buffers (NumPy copies, '<index>.<name>') and 'steps'.")
      .def("load_state_dict", [](Optimizer& opt, py::handle state) {
             if (!py::isinstance<py::dict>(state))
               throw TypeError("load_state_dict: state must be a dict from state_dict(), got " + type_name(state));
             auto [s, steps] = state_of(py::reinterpret_borrow<py::dict>(state));
             opt.load_state(s, steps);  // validates shapes and keys before changing anything
           }, "state"_a)
      .def("__repr__", [](const Optimizer& opt) {
        return opt.type_name() + "(lr=" + std::to_string(opt.lr()) + ", params=" +
               std::to_string(opt.params().size()) + ")";
      });

  py::class_<optim::SGD, Optimizer, std::shared_ptr<optim::SGD>>(o, "SGD")
      .def(py::init([](py::handle params, py::handle lr, py::handle momentum, py::handle dampening,
                       py::handle nesterov, py::handle wd) {
             return std::make_shared<optim::SGD>(
                 param_list(params), number_value(lr, "SGD: lr"), number_value(momentum, "SGD: momentum"),
                 number_value(dampening, "SGD: dampening"), bool_value(nesterov, "SGD: nesterov"),
                 number_value(wd, "SGD: weight_decay"));
           }),
           "params"_a, "lr"_a, "momentum"_a = 0.0, "dampening"_a = 0.0, "nesterov"_a = false,
           "weight_decay"_a = 0.0)
      .def_readonly("momentum", &optim::SGD::momentum)
      .def_readonly("nesterov", &optim::SGD::nesterov)
      .def_readonly("weight_decay", &optim::SGD::weight_decay);

  py::class_<optim::Adam, Optimizer, std::shared_ptr<optim::Adam>>(o, "Adam")
      .def(py::init([](py::handle params, py::handle lr, py::handle betas, py::handle eps, py::handle wd) {
             auto [b1, b2] = betas_of(betas);
             return std::make_shared<optim::Adam>(param_list(params), number_value(lr, "Adam: lr"), b1, b2,
                                                  number_value(eps, "Adam: eps"),
                                                  number_value(wd, "Adam: weight_decay"));
           }),
           "params"_a, "lr"_a = 1e-3, "betas"_a = py::make_tuple(0.9, 0.999), "eps"_a = 1e-8,
           "weight_decay"_a = 0.0)
      .def_property_readonly("betas", [](const optim::Adam& a) { return py::make_tuple(a.beta1, a.beta2); })
      .def_readonly("eps", &optim::Adam::eps)
      .def_readonly("weight_decay", &optim::Adam::weight_decay);

  py::class_<optim::RMSprop, Optimizer, std::shared_ptr<optim::RMSprop>>(o, "RMSprop")
      .def(py::init([](py::handle params, py::handle lr, py::handle alpha, py::handle eps,
                       py::handle momentum, py::handle centered, py::handle wd) {
             return std::make_shared<optim::RMSprop>(
                 param_list(params), number_value(lr, "RMSprop: lr"), number_value(alpha, "RMSprop: alpha"),
                 number_value(eps, "RMSprop: eps"), number_value(momentum, "RMSprop: momentum"),
                 bool_value(centered, "RMSprop: centered"), number_value(wd, "RMSprop: weight_decay"));
           }),
           "params"_a, "lr"_a = 1e-2, "alpha"_a = 0.99, "eps"_a = 1e-8, "momentum"_a = 0.0,
           "centered"_a = false, "weight_decay"_a = 0.0)
      .def_readonly("alpha", &optim::RMSprop::alpha)
      .def_readonly("eps", &optim::RMSprop::eps)
      .def_readonly("momentum", &optim::RMSprop::momentum)
      .def_readonly("centered", &optim::RMSprop::centered)
      .def_readonly("weight_decay", &optim::RMSprop::weight_decay);

  o.def("clip_", [](py::handle params, py::handle c) {
          optim::clip_(param_list(params), number_value(c, "clip_: c"));
        },
        "params"_a, "c"_a, "Clips every element of every parameter into [-c, c] in place (WGAN).");
}

}  // namespace cgan::bind
