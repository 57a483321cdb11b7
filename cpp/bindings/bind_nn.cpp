// cgan._core.nn: modules. Calling a module on a Tensor records a graph; calling it on
// an array-like runs inference (no graph, GIL released) and returns a NumPy array.
#include <cmath>
#include <random>

#include "convert.hpp"
#include "nn/module.hpp"
#include "nn/spectral_norm.hpp"
#include "tensor/kernels.hpp"
#include "tensor/parallel.hpp"

namespace cgan::bind {

using namespace pybind11::literals;
using nn::Module;

namespace {

uint64_t seed_or_random(py::object seed) {
  if (seed.is_none()) return (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  return seed_value(seed);
}

// An activation's parameter (leaky_relu's slope, elu's alpha): None or a finite number.
double activation_param(py::handle param, const char* what) {
  if (param.is_none()) return -1.0;
  double v = number_value(param, what);
  if (!std::isfinite(v)) throw ValueError(std::string(what) + " must be finite, got " + std::to_string(v));
  return v;
}

void check_width(const Module& m, const Shape& s) {
  int64_t in = m.in_features();
  if (in < 0) return;
  if (s.size() != 2 || s[1] != in)
    throw ValueError(m.type_name() + " expects input of shape (N, " + std::to_string(in) +
                     "), got " + shape_str(s));
}

py::object call(Module& m, py::handle x) {
  if (py::isinstance<Var>(x)) {
    Var v = x.cast<Var>();
    check_width(m, v.shape());
    return py::cast(m.forward(v));
  }
  Tensor t = to_tensor(x, m.dtype(), "input");
  check_width(m, t.shape());
  Tensor y;
  {
    py::gil_scoped_release nogil;
    NoGradGuard no_grad;
    y = m.forward(Var(t)).data();
  }
  return to_numpy(y);
}

py::dict state_dict(const Module& m) {
  py::dict d;
  for (auto& [n, p] : m.named_parameters()) d[py::str(n)] = to_numpy(p.data().clone());
  for (auto& [n, b] : m.named_buffers()) d[py::str(n)] = to_numpy(b.data().clone());
  return d;
}

void load_state_dict(const Module& m, py::dict d, bool strict) {
  nn::Named all = m.named_parameters();
  for (auto& nb : m.named_buffers()) all.push_back(nb);
  // Validate everything first: a failed load leaves the module as it was.
  std::vector<std::pair<Var, Tensor>> todo;
  std::vector<std::string> missing;
  for (auto& [n, v] : all) {
    if (!d.contains(py::str(n))) {
      missing.push_back(n);
      continue;
    }
    Tensor t = to_tensor(d[py::str(n)], v.dtype(), n.c_str());
    if (t.shape() != v.shape())
      throw ValueError("load_state_dict: '" + n + "' has shape " + shape_str(t.shape()) +
                       ", the module expects " + shape_str(v.shape()));
    if (!kernels::all_finite(t))
      throw ValueError("load_state_dict: '" + n + "' contains NaN or infinite values");
    todo.emplace_back(v, t);
  }
  if (strict) {
    std::string msg;
    for (auto& n : missing) msg += " missing '" + n + "';";
    for (auto item : d) {
      std::string k = py::str(item.first);
      bool known = false;
      for (auto& [n, v] : all) known |= n == k;
      if (!known) msg += " unexpected '" + k + "';";
    }
    if (!msg.empty()) throw ValueError("load_state_dict:" + msg);
  }
  for (auto& [v, t] : todo) v.mutable_data().copy_from(t);
}

}  // namespace

void bind_nn(py::module_& m) {
  py::module_ nn = m.def_submodule("nn", "Neural network modules.");
  py::class_<Module, std::shared_ptr<Module>>(nn, "Module", "Base class of cgan modules.")
      .def("__call__", &call, "x"_a,
           "On a Tensor: forward with a graph, returns a Tensor. On an array: inference, "
           "returns a NumPy array.")
      .def("forward", [](Module& m, const Var& x) { return m.forward(x); })
      .def("parameters", &Module::parameters, "The parameter Tensors (shared, not copies).")
      .def("named_parameters", [](const Module& m) { return m.named_parameters(); })
      .def("named_buffers", [](const Module& m) { return m.named_buffers(); })
      .def("state_dict", &state_dict, "Parameters and buffers as NumPy copies, by name.")
      .def("load_state_dict", &load_state_dict, "state"_a, "strict"_a = true)
      .def("_config", &Module::config)
      .def("astype", [](std::shared_ptr<Module> m, py::object dt) {
             auto d = parse_dtype(dt);  // Fix: None gave an empty optional, dereferenced (UB)
             if (!d) throw TypeError("dtype must be float32 or float64, got None");
             m->to(*d);
             return m;
           }, "dtype"_a, "Converts parameters in place to float32 or float64; returns the module.")
      .def_property_readonly("dtype", [](const Module& m) { return dtype_object(m.dtype()); })
      .def_property_readonly("in_features", [](const Module& m) -> py::object {
        return m.in_features() < 0 ? py::object(py::none()) : py::int_(m.in_features());
      })
      .def_property_readonly("out_features", [](const Module& m) -> py::object {
        return m.out_features() < 0 ? py::object(py::none()) : py::int_(m.out_features());
      })
      .def("num_parameters", [](const Module& m) {
        int64_t n = 0;
        for (auto& p : m.parameters()) n += p.numel();
        return n;
      })
      .def("__repr__", [](const Module& m) { return m.type_name() + "(" + m.config() + ")"; });

  py::class_<nn::Linear, Module, std::shared_ptr<nn::Linear>>(nn, "Linear",
                                                              "y = x @ weight.T + bias, weight (out, in).")
      .def(py::init([](int64_t in, int64_t out, bool bias, std::string init, py::object seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::Linear>(in, out, bias, init, rng);
           }),
           "in_features"_a, "out_features"_a, "bias"_a = true, "init"_a = "default",
           "seed"_a = py::none())
      .def_property_readonly("weight", &nn::Linear::weight)
      .def_property_readonly("bias", [](const nn::Linear& l) -> py::object {
        return l.bias().defined() ? py::cast(l.bias()) : py::none();
      });

  py::class_<nn::Activation, Module, std::shared_ptr<nn::Activation>>(
      nn, "Activation", "Elementwise activation: relu, leaky_relu, tanh, sigmoid, elu, softplus, identity.")
      .def(py::init([](std::string name, py::object param) {
             return std::make_shared<nn::Activation>(name, activation_param(param, "Activation: param"));
           }),
           "name"_a, "param"_a = py::none())
      .def_property_readonly("name", &nn::Activation::name)
      .def_property_readonly("param", &nn::Activation::param);

  py::class_<nn::Sequential, Module, std::shared_ptr<nn::Sequential>>(nn, "Sequential")
      .def(py::init([](py::args layers) {
             std::vector<nn::ModulePtr> ls;
             for (py::handle h : layers) {
               if (!py::isinstance<Module>(h))
                 throw TypeError("Sequential: expected cgan.nn modules, got " +
                                 py::str(py::type::of(h)).cast<std::string>());
               ls.push_back(h.cast<nn::ModulePtr>());
             }
             return std::make_shared<nn::Sequential>(ls);
           }))
      .def("__len__", [](const nn::Sequential& s) { return s.layers().size(); })
      .def("__getitem__", [](const nn::Sequential& s, int64_t i) {
        int64_t n = static_cast<int64_t>(s.layers().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw py::index_error("layer index out of range");
        return s.layers()[i];
      })
      .def("forward_until", [](nn::Sequential& s, const Var& x, size_t end) { return s.forward_until(x, end); },
           "x"_a, "end"_a, "Output of layers [0, end), e.g. an autoencoder's code.");

  py::class_<nn::MLP, nn::Sequential, std::shared_ptr<nn::MLP>>(nn, "MLP",
      "Linear -> activation -> ... -> Linear (-> out_activation).")
      .def(py::init([](int64_t in, std::vector<int64_t> hidden, int64_t out, std::string act,
                       py::object out_act, bool sn, std::string init, py::object slope, py::object seed) {
             nn::MLPOptions o;
             o.in_features = in;
             o.hidden = hidden;
             o.out_features = out;
             o.activation = act;
             o.out_activation = out_act.is_none() ? "identity" : out_act.cast<std::string>();
             o.spectral_norm = sn;
             o.init = init;
             o.negative_slope = activation_param(slope, "MLP: negative_slope");
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::MLP>(o, rng);
           }),
           "in_features"_a, "hidden"_a, "out_features"_a, "activation"_a = "relu",
           "out_activation"_a = py::none(), "spectral_norm"_a = false, "init"_a = "default",
           "negative_slope"_a = 0.2, "seed"_a = py::none());

  py::class_<nn::SpectralNorm, Module, std::shared_ptr<nn::SpectralNorm>>(
      nn, "SpectralNorm", "Wraps a Linear so that it uses W / sigma(W) (Miyato et al. 2018).")
      .def(py::init([](std::shared_ptr<nn::Linear> lin, int iters, py::object seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::SpectralNorm>(lin, iters, rng);
           }),
           "module"_a, "power_iterations"_a = 1, "seed"_a = py::none())
      .def_property_readonly("module", &nn::SpectralNorm::inner)
      .def("sigma", &nn::SpectralNorm::sigma, "sigma(W) estimated with the current u.")
      .def("normalized_weight", [](nn::SpectralNorm& s) {
        NoGradGuard g;
        return s.normalized_weight();
      });
}

}  // namespace cgan::bind
