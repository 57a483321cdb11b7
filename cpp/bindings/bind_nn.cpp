// cgan._core.nn: modules. Calling a module on a Tensor records a graph; calling it on
// an array-like runs inference (no graph, GIL released) and returns a NumPy array.
#include <cmath>
#include <random>

#include "convert.hpp"
#include "py_module.hpp"
#include "nn/activation.hpp"
#include "nn/conditional.hpp"
#include "nn/conv.hpp"
#include "nn/linear.hpp"
#include "nn/minibatch_discrimination.hpp"
#include "nn/mlp.hpp"
#include "nn/norm.hpp"
#include "nn/registry.hpp"
#include "nn/reshape.hpp"
#include "nn/spectral_norm.hpp"
#include "nn/virtual_batch_norm.hpp"
#include "tensor/kernels.hpp"

namespace cgan::bind {

using namespace pybind11::literals;
using nn::Config;
using nn::Module;

namespace {

uint64_t seed_or_random(py::handle seed) {
  if (seed.is_none()) return (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  return seed_value(seed);
}

// ---- arguments ------------------------------------------------------------------------------

std::string type_of(py::handle h) { return py::str(py::type::of(h).attr("__name__")).cast<std::string>(); }

int64_t int_arg(py::handle v, const std::string& what) {
  if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v))
    if (!(py::hasattr(v, "__index__") && !py::isinstance<py::bool_>(v) && !py::isinstance<py::float_>(v)))
      throw TypeError(what + " must be an integer, got " + type_of(v) + " " + py::repr(v).cast<std::string>());
  py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(v.ptr()));
  if (!i) throw py::error_already_set();
  int overflow = 0;
  long long r = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow || r > (1LL << 40) || r < -(1LL << 40))
    throw ValueError(what + " is out of range, got " + py::repr(v).cast<std::string>());
  return r;
}

bool bool_arg(py::handle v, const std::string& what) {
  if (!py::isinstance<py::bool_>(v) && !(py::hasattr(v, "dtype") && py::str(v.attr("dtype")).cast<std::string>() == "bool"))
    throw TypeError(what + " must be True or False, got " + type_of(v) + " " + py::repr(v).cast<std::string>());
  return v.cast<bool>();
}

double finite_arg(py::handle v, const std::string& what) {
  double d = number_value(v, what.c_str());
  if (!std::isfinite(d)) throw ValueError(what + " must be finite, got " + std::to_string(d));
  return d;
}

std::string str_arg(py::handle v, const std::string& what) {
  if (!py::isinstance<py::str>(v))
    throw TypeError(what + " must be a string, got " + type_of(v) + " " + py::repr(v).cast<std::string>());
  return v.cast<std::string>();
}

// An int or a pair of ints (kernel_size, stride, padding, scale_factor).
ops::Pair pair_arg(py::handle v, const std::string& what) {
  if (py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v)) {
    py::sequence s = py::reinterpret_borrow<py::sequence>(v);
    if (s.size() != 2) throw ValueError(what + " must be an int or a pair of ints, got " + py::repr(v).cast<std::string>());
    return {int_arg(s[0], what), int_arg(s[1], what)};
  }
  int64_t i = int_arg(v, what);
  return {i, i};
}

Shape shape_arg(py::handle v, const std::string& what) {
  if (!(py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v)))
    return {int_arg(v, what)};
  Shape s;
  for (py::handle h : v) s.push_back(int_arg(h, what));
  return s;
}

// ---- Module methods ---------------------------------------------------------------------------

// Shapes are checked before a built-in module's forward; a Python module's forward
// reports its own errors (its out_shape is a dry run of forward).
void check_shape(const Module& m, const Shape& s) {
  if (!dynamic_cast<const PyModule*>(&m)) nn::check_input(m, s);
}

py::object call(Module& m, py::handle x, py::handle labels) {
  nn::LabelScope scope(labels_value(labels));
  if (py::isinstance<Var>(x)) {
    Var v = x.cast<Var>();
    check_shape(m, v.shape());
    return py::cast(m.forward(v));
  }
  Tensor t = to_tensor(x, m.dtype(), "input");
  check_shape(m, t.shape());
  Tensor y;
  {
    py::gil_scoped_release nogil;
    NoGradGuard no_grad;
    nn::FreezeRunningState frozen;  // inference: the mode's computation, no state moves
    y = m.forward(Var(t)).data();
  }
  return to_numpy(y);
}

py::dict state_dict(const Module& m) {
  py::dict d;
  for (auto& [n, v] : m.named_state()) d[py::str(n)] = to_numpy(v.data().clone());
  return d;
}

void load_state_dict(const Module& m, py::dict d, bool strict) {
  nn::Named all = m.named_state();
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


template <class BN>
void bind_batch_norm(py::module_& nn, const char* name, const char* doc) {
  std::string who(name);
  py::class_<BN, nn::BatchNorm, py::smart_holder>(nn, name, doc)
      .def(py::init([who](py::handle c, py::handle eps, py::handle mom, py::handle affine) {
             return std::make_shared<BN>(int_arg(c, who + ": num_features"), finite_arg(eps, who + ": eps"),
                                         finite_arg(mom, who + ": momentum"), bool_arg(affine, who + ": affine"));
           }),
           "num_features"_a, "eps"_a = 1e-5, "momentum"_a = 0.1, "affine"_a = true);
}

template <class VBN>
void bind_virtual_batch_norm(py::module_& nn, const char* name, const char* doc) {
  std::string who(name);
  py::class_<VBN, nn::VirtualBatchNorm, py::smart_holder>(nn, name, doc)
      .def(py::init([who](py::handle c, py::handle eps) {
             return std::make_shared<VBN>(int_arg(c, who + ": num_features"), finite_arg(eps, who + ": eps"));
           }),
           "num_features"_a, "eps"_a = 1e-5);
}

}  // namespace

void bind_nn(py::module_& m) {
  py::module_ nn = m.def_submodule("nn", "Neural network modules.");
  install_python_module_factory();
  py::class_<Module, PyModule, py::smart_holder>(nn, "Module", R"doc(Base class of cgan modules.

Subclass it in Python: call ``super().__init__()`` in ``__init__`` and write
``forward(self, x)`` with cgan Tensors and ops. Attributes that are modules or parameters
(``cgan.nn.Parameter``) register themselves, as in PyTorch.)doc")
      .def(py::init<>())
      .def("__call__", &call, "x"_a, "labels"_a = py::none(),
           "On a Tensor: forward with a graph, returns a Tensor. On an array: inference "
           "(no graph, no running statistics move), returns a NumPy array. `labels`: the "
           "class of each row, for conditional networks.")
      .def("forward", [](Module& m, const Var& x) { return m.forward(x); })
      .def("parameters", &Module::parameters, "The parameter Tensors (shared, not copies).")
      .def("named_parameters", [](const Module& m) { return m.named_parameters(); })
      .def("named_buffers", [](const Module& m) { return m.named_buffers(); })
      .def("named_children", [](const Module& m) { return m.children(); })
      .def("__setattr__", [](py::handle self, py::str name, py::handle value) {
             if (auto* pm = dynamic_cast<PyModule*>(self.cast<Module*>())) pm->on_setattr(name, value);
             py::module_::import("builtins").attr("object").attr("__setattr__")(self, name, value);
           })
      .def("register_buffer", [](Module& m, const std::string& name, py::handle value) {
             auto* pm = dynamic_cast<PyModule*>(&m);
             if (!pm) throw TypeError("register_buffer: only modules written in Python take new buffers");
             Var v = to_var(value, std::nullopt, "register_buffer: value");
             pm->register_buffer(name, v);
             py::module_::import("builtins").attr("object").attr("__setattr__")(py::cast(&m), name, v.detach());
           }, "name"_a, "tensor"_a, "State saved with the module but not trained (e.g. running statistics).")
      .def("_replace_child", [](py::handle self, const std::string& name, nn::ModulePtr child) {
             Module& m = *self.cast<Module*>();
             if (auto* seq = dynamic_cast<nn::Sequential*>(&m)) {
               seq->replace_layer(std::stoul(name), child);
             } else if (dynamic_cast<PyModule*>(&m)) {
               self.attr("__setattr__")(name, child);
             } else {
               throw TypeError("cannot replace a child of " + m.type_name());
             }
           })
      .def("state_dict", &state_dict, "Parameters and buffers as NumPy copies, by PyTorch's names.")
      .def("load_state_dict", [](const Module& m, py::handle d, py::handle strict) {
             if (!py::isinstance<py::dict>(d))
               throw TypeError("load_state_dict: state must be a dict of arrays, got " + type_of(d));
             load_state_dict(m, py::reinterpret_borrow<py::dict>(d), bool_arg(strict, "load_state_dict: strict"));
           }, "state"_a, "strict"_a = true)
      .def("_config", [](const Module& m) { return config_to_python(m.config()); })
      .def("train", [](std::shared_ptr<Module> m, py::handle mode) {
             m->set_training(bool_arg(mode, "train: mode"));
             return m;
           }, "mode"_a = true, "Train mode (batch statistics, dropout on) for this module and its children.")
      .def("eval", [](std::shared_ptr<Module> m) {
             m->set_training(false);
             return m;
           }, "Eval mode (running statistics, dropout off) for this module and its children.")
      .def_property_readonly("training", &Module::training)
      .def("out_shape", [](const Module& m, py::handle in) {
             return py::tuple(py::cast(m.out_shape(shape_arg(in, m.type_name() + ".out_shape: in_shape"))));
           }, "in_shape"_a, "Per-sample output shape for a per-sample input shape (ValueError if it does not fit).")
      .def_property_readonly("in_shape", [](const Module& m) -> py::object {
             auto s = m.in_shape();
             if (!s) return py::none();
             return py::tuple(py::cast(*s));
           }, "The per-sample input shape the module requires, or None when it takes several.")
      .def("astype", [](std::shared_ptr<Module> m, py::object dt) {
             auto d = parse_dtype(dt);
             if (!d) throw TypeError("dtype must be float32 or float64, got None");
             m->to(*d);
             return m;
           }, "dtype"_a, "Converts parameters in place to float32 or float64; returns the module.")
      .def_property_readonly("dtype", [](const Module& m) { return dtype_object(m.dtype()); })
      .def_property_readonly("in_features", [](const Module& m) -> py::object {
        auto s = m.in_shape();
        return s && s->size() == 1 ? py::object(py::int_((*s)[0])) : py::object(py::none());
      })
      .def_property_readonly("out_features", [](const Module& m) -> py::object {
        auto s = m.in_shape();
        if (!s) return py::none();
        Shape o = m.out_shape(*s);
        return o.size() == 1 ? py::object(py::int_(o[0])) : py::object(py::none());
      })
      .def("num_parameters", [](const Module& m) {
        int64_t n = 0;
        for (auto& p : m.parameters()) n += p.numel();
        return n;
      })
      .def("__repr__", [](const Module& m) {
        return m.type_name() + "(" + py::str(config_to_python(m.config())).cast<std::string>() + ")";
      });

  nn.def("_from_config", [](py::handle cfg, py::handle seed) {
          Rng rng(seed_or_random(seed));
          return nn::from_config(config_from_python(cfg), rng);
        }, "config"_a, "seed"_a = py::none());
  nn.def("_parameter_count", [](py::handle cfg) { return nn::parameter_count(config_from_python(cfg)); });
  nn.def("_module_types", &nn::module_types);

  py::class_<nn::Linear, Module, py::smart_holder>(nn, "Linear",
                                                              "y = x @ weight.T + bias, weight (out, in).")
      .def(py::init([](py::handle in, py::handle out, py::handle bias, py::handle init, py::handle seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::Linear>(int_arg(in, "Linear: in_features"), int_arg(out, "Linear: out_features"),
                                                 bool_arg(bias, "Linear: bias"), str_arg(init, "Linear: init"), rng);
           }),
           "in_features"_a, "out_features"_a, "bias"_a = true, "init"_a = "default", "seed"_a = py::none())
      .def_property_readonly("weight", &nn::Linear::weight)
      .def_property_readonly("bias", [](const nn::Linear& l) -> py::object {
        return l.bias().defined() ? py::cast(l.bias()) : py::none();
      });

  auto conv_opts = [](const char* who, py::handle in, py::handle out, py::handle k, py::handle s, py::handle p,
                      py::handle op, py::handle bias, py::handle init) {
    std::string w(who);
    nn::ConvOptions o;
    o.in_channels = int_arg(in, w + ": in_channels");
    o.out_channels = int_arg(out, w + ": out_channels");
    o.kernel_size = pair_arg(k, w + ": kernel_size");
    o.geometry.stride = pair_arg(s, w + ": stride");
    o.geometry.padding = pair_arg(p, w + ": padding");
    o.geometry.output_padding = pair_arg(op, w + ": output_padding");
    o.bias = bool_arg(bias, w + ": bias");
    o.init = str_arg(init, w + ": init");
    return o;
  };
  py::class_<nn::Conv2d, Module, py::smart_holder>(
      nn, "Conv2d", "2-D convolution of (N, C_in, H, W) images; weight (out, in, kh, kw).\n"
                    "H_out = (H + 2 padding - kernel_size) // stride + 1.")
      .def(py::init([conv_opts](py::handle in, py::handle out, py::handle k, py::handle s, py::handle p,
                                py::handle bias, py::handle init, py::handle seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::Conv2d>(conv_opts("Conv2d", in, out, k, s, p, py::int_(0), bias, init), rng);
           }),
           "in_channels"_a, "out_channels"_a, "kernel_size"_a, "stride"_a = 1, "padding"_a = 0, "bias"_a = true,
           "init"_a = "default", "seed"_a = py::none())
      .def_property_readonly("weight", &nn::Conv2d::weight)
      .def_property_readonly("bias", [](const nn::Conv2d& l) -> py::object {
        return l.bias().defined() ? py::cast(l.bias()) : py::none();
      });
  py::class_<nn::ConvTranspose2d, nn::Conv2d, py::smart_holder>(
      nn, "ConvTranspose2d", "Transposed 2-D convolution; weight (in, out, kh, kw).\n"
                             "H_out = (H - 1) stride - 2 padding + kernel_size + output_padding.")
      .def(py::init([conv_opts](py::handle in, py::handle out, py::handle k, py::handle s, py::handle p,
                                py::handle op, py::handle bias, py::handle init, py::handle seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::ConvTranspose2d>(
                 conv_opts("ConvTranspose2d", in, out, k, s, p, op, bias, init), rng);
           }),
           "in_channels"_a, "out_channels"_a, "kernel_size"_a, "stride"_a = 1, "padding"_a = 0,
           "output_padding"_a = 0, "bias"_a = true, "init"_a = "default", "seed"_a = py::none());

  py::class_<nn::BatchNorm, Module, py::smart_holder>(nn, "_BatchNorm");
  bind_batch_norm<nn::BatchNorm1d>(nn, "BatchNorm1d", "Batch normalisation of (N, C) or (N, C, L), PyTorch's semantics.");
  bind_batch_norm<nn::BatchNorm2d>(nn, "BatchNorm2d", "Batch normalisation of (N, C, H, W) per channel, PyTorch's semantics.");
  py::class_<nn::LayerNorm, Module, py::smart_holder>(
      nn, "LayerNorm", "Normalises each sample over its trailing dims `normalized_shape`.")
      .def(py::init([](py::handle shape, py::handle eps, py::handle affine) {
             return std::make_shared<nn::LayerNorm>(shape_arg(shape, "LayerNorm: normalized_shape"),
                                                    finite_arg(eps, "LayerNorm: eps"),
                                                    bool_arg(affine, "LayerNorm: elementwise_affine"));
           }),
           "normalized_shape"_a, "eps"_a = 1e-5, "elementwise_affine"_a = true);
  py::class_<nn::VirtualBatchNorm, Module, py::smart_holder>(nn, "_VirtualBatchNorm");
  bind_virtual_batch_norm<nn::VirtualBatchNorm1d>(
      nn, "VirtualBatchNorm1d", "Virtual batch normalisation of (N, C) (Salimans et al. 2016); see GAN(virtual_batch_norm=).");
  bind_virtual_batch_norm<nn::VirtualBatchNorm2d>(
      nn, "VirtualBatchNorm2d", "Virtual batch normalisation of (N, C, H, W) per channel (Salimans et al. 2016).");

  py::class_<nn::Flatten, Module, py::smart_holder>(nn, "Flatten", "(N, *shape) -> (N, prod(shape)).")
      .def(py::init<>());
  py::class_<nn::Unflatten, Module, py::smart_holder>(nn, "Unflatten", "(N, prod(shape)) -> (N, *shape).")
      .def(py::init([](py::handle s) { return std::make_shared<nn::Unflatten>(shape_arg(s, "Unflatten: shape")); }),
           "shape"_a);
  py::class_<nn::Upsample, Module, py::smart_holder>(nn, "Upsample",
                                                                  "Nearest-neighbour upsampling of (N, C, H, W).")
      .def(py::init([](py::handle s) {
             auto p = pair_arg(s, "Upsample: scale_factor");
             return std::make_shared<nn::Upsample>(p[0], p[1]);
           }),
           "scale_factor"_a);
  py::class_<nn::Dropout, Module, py::smart_holder>(
      nn, "Dropout", "Zeroes elements with probability p in train mode (scaling the rest by 1/(1-p)).")
      .def(py::init([](py::handle p, py::handle seed) {
             return std::make_shared<nn::Dropout>(finite_arg(p, "Dropout: p"), seed_or_random(seed));
           }),
           "p"_a = 0.5, "seed"_a = py::none())
      .def_property_readonly("p", &nn::Dropout::p);

  py::class_<nn::MinibatchDiscrimination, Module, py::smart_holder>(
      nn, "MinibatchDiscrimination",
      "Minibatch discrimination (Salimans et al. 2016): (N, in) -> (N, in + num_kernels), appending "
      "o_b(x_i) = sum_{j != i} exp(-||M_i,b - M_j,b||_1) with M = x T reshaped to (N, num_kernels, "
      "kernel_dim); T (in_features, num_kernels * kernel_dim).")
      .def(py::init([](py::handle in, py::handle b, py::handle c, py::handle seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::MinibatchDiscrimination>(
                 int_arg(in, "MinibatchDiscrimination: in_features"), int_arg(b, "MinibatchDiscrimination: num_kernels"),
                 int_arg(c, "MinibatchDiscrimination: kernel_dim"), rng);
           }),
           "in_features"_a, "num_kernels"_a, "kernel_dim"_a, "seed"_a = py::none())
      .def_property_readonly("T", &nn::MinibatchDiscrimination::T);

  py::class_<nn::Embedding, Module, py::smart_holder>(
      nn, "Embedding", "Integer labels (N,) -> rows of a learned (num_classes, dim) table, N(0, 1) initially.")
      .def(py::init([](py::handle c, py::handle dim, py::handle seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::Embedding>(int_arg(c, "Embedding: num_classes"), int_arg(dim, "Embedding: dim"), rng);
           }),
           "num_classes"_a, "dim"_a, "seed"_a = py::none());
  py::class_<nn::Conditional, Module, py::smart_holder>(
      nn, "Conditional",
      "A Sequential conditioned on class labels: mode 'add' adds a learned label vector after layer "
      "`at` - 1 (= concatenating a one-hot label to the input when at = 1), 'projection' adds "
      "<E[y], features> to the output (Miyato and Koyama 2018).")
      .def(py::init([](std::shared_ptr<nn::Sequential> body, py::handle classes, py::handle mode, py::handle at,
                       py::handle seed) {
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::Conditional>(body, int_arg(classes, "Conditional: num_classes"),
                                                      str_arg(mode, "Conditional: mode"), int_arg(at, "Conditional: at"), rng);
           }),
           "module"_a, "num_classes"_a, "mode"_a = "add", "at"_a = 1, "seed"_a = py::none())
      .def_property_readonly("num_classes", &nn::Conditional::num_classes);

  py::class_<nn::Activation, Module, py::smart_holder>(
      nn, "Activation", "Elementwise activation: relu, leaky_relu, tanh, sigmoid, elu, softplus, identity.")
      .def(py::init([](py::handle name, py::handle param) {
             std::optional<double> p;
             if (!param.is_none()) p = finite_arg(param, "Activation: param");
             return std::make_shared<nn::Activation>(str_arg(name, "Activation: name"), p);
           }),
           "name"_a, "param"_a = py::none())
      .def_property_readonly("name", &nn::Activation::name)
      .def_property_readonly("param", &nn::Activation::param);

  py::class_<nn::Sequential, Module, py::smart_holder>(nn, "Sequential")
      .def(py::init([](py::args layers) {
             std::vector<nn::ModulePtr> ls;
             for (py::handle h : layers) {
               if (!py::isinstance<Module>(h))
                 throw TypeError("Sequential: expected cgan.nn modules, got " + type_of(h));
               ls.push_back(h.cast<nn::ModulePtr>());
             }
             return std::make_shared<nn::Sequential>(ls);
           }))
      .def("__len__", [](const nn::Sequential& s) { return s.layers().size(); })
      .def("__getitem__", [](const nn::Sequential& s, py::handle idx) {
        int64_t n = static_cast<int64_t>(s.layers().size());
        int64_t i = int_arg(idx, "Sequential index");
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw py::index_error("layer index out of range");
        return s.layers()[i];
      })
      .def("forward_until", [](nn::Sequential& s, const Var& x, size_t end) { return s.forward_until(x, end); },
           "x"_a, "end"_a, "Output of layers [0, end), e.g. an autoencoder's code.");

  py::class_<nn::MLP, nn::Sequential, py::smart_holder>(nn, "MLP",
      "Linear -> activation -> ... -> Linear (-> out_activation).")
      .def(py::init([](py::handle in, py::handle hidden, py::handle out, py::handle act, py::handle out_act,
                       py::handle sn, py::handle init, py::handle slope, py::handle classes, py::handle seed) {
             nn::MLPOptions o;
             if (!classes.is_none()) o.num_classes = int_arg(classes, "MLP: num_classes");
             if (!classes.is_none() && o.num_classes < 1)
               throw ValueError("MLP: num_classes must be >= 1 (or None), got " + std::to_string(o.num_classes));
             o.in_features = int_arg(in, "MLP: in_features");
             if (!(py::isinstance<py::list>(hidden) || py::isinstance<py::tuple>(hidden)))
               throw TypeError("MLP: hidden must be a list of widths, got " + type_of(hidden));
             for (py::handle h : hidden) o.hidden.push_back(int_arg(h, "MLP: hidden width"));
             o.out_features = int_arg(out, "MLP: out_features");
             o.activation = str_arg(act, "MLP: activation");
             o.out_activation = out_act.is_none() ? "identity" : str_arg(out_act, "MLP: out_activation");
             o.spectral_norm = bool_arg(sn, "MLP: spectral_norm");
             o.init = str_arg(init, "MLP: init");
             o.negative_slope = finite_arg(slope, "MLP: negative_slope");
             Rng rng(seed_or_random(seed));
             return std::make_shared<nn::MLP>(o, rng);
           }),
           "in_features"_a, "hidden"_a, "out_features"_a, "activation"_a = "relu",
           "out_activation"_a = py::none(), "spectral_norm"_a = false, "init"_a = "default",
           "negative_slope"_a = 0.2, "num_classes"_a = py::none(), "seed"_a = py::none());

  py::class_<nn::SpectralNorm, Module, py::smart_holder>(
      nn, "SpectralNorm", "Wraps a Linear/Conv2d/ConvTranspose2d so that it uses W / sigma(W) (Miyato et al. 2018).")
      .def(py::init([](nn::ModulePtr inner, py::handle iters, py::handle seed) {
             Rng rng(seed_or_random(seed));
             int64_t it = int_arg(iters, "SpectralNorm: power_iterations");
             if (it < 1 || it > 1000) throw ValueError("SpectralNorm: power_iterations must be in [1, 1000]");
             return std::make_shared<nn::SpectralNorm>(inner, int(it), rng);
           }),
           "module"_a, "power_iterations"_a = 1, "seed"_a = py::none())
      .def_property_readonly("module", &nn::SpectralNorm::inner)
      .def("sigma", &nn::SpectralNorm::sigma, "sigma(W) estimated with the current u.")
      .def("normalized_weight", [](nn::SpectralNorm& s) {
        NoGradGuard g;
        nn::FreezeRunningState frozen;
        return s.normalized_weight();
      });
}

}  // namespace cgan::bind
