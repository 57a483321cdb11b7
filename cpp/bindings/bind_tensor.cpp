// cgan.Tensor, cgan.grad, grad mode, the ops, threads and the RNG.
#include <sstream>

#include "autograd/engine.hpp"
#include "convert.hpp"
#include "ops/norm.hpp"
#include "ops/ops.hpp"
#include "tensor/kernels.hpp"
#include "tensor/parallel.hpp"
#include "tensor/rng.hpp"

namespace cgan::bind {

using namespace pybind11::literals;

namespace {

// Right-hand operand of an arithmetic operator: a Tensor, a Python number (takes the
// tensor's dtype, as a NumPy scalar would) or an array-like.
Var operand(py::handle other, const Var& like) {
  if (py::isinstance<Var>(other)) return other.cast<Var>();
  if (py::isinstance<py::float_>(other) || py::isinstance<py::int_>(other))
    return ops::scalar_like(other.cast<double>(), like);
  return to_var(other, std::nullopt, "operand");
}

std::vector<Var> var_list(py::handle obj, const char* what) {
  std::vector<Var> out;
  if (obj.is_none()) return out;
  if (py::isinstance<Var>(obj)) return {obj.cast<Var>()};
  for (py::handle h : obj) {
    if (h.is_none()) out.emplace_back();
    else if (py::isinstance<Var>(h)) out.push_back(h.cast<Var>());
    else out.push_back(to_var(h, std::nullopt, what));
  }
  return out;
}

std::vector<Var> tensor_list(py::handle obj, const char* what) {
  std::vector<Var> out;
  if (py::isinstance<Var>(obj)) return {obj.cast<Var>()};
  for (py::handle h : obj) {
    if (!py::isinstance<Var>(h))
      throw TypeError(std::string(what) + ": expected cgan.Tensor objects, got " +
                      py::str(py::type::of(h)).cast<std::string>());
    out.push_back(h.cast<Var>());
  }
  return out;
}

Var reduce(const Var& x, py::object axis, bool keepdims, bool mean) {
  if (axis.is_none()) {
    Var r = mean ? ops::mean(x) : ops::sum(x);
    if (keepdims) r = ops::reshape(r, Shape(x.shape().size(), 1));
    return r;
  }
  if (py::isinstance<py::tuple>(axis) || py::isinstance<py::list>(axis)) {
    // A tuple of axes (NumPy): negative ones count from the end, each at most once.
    std::vector<int64_t> axes;
    for (py::handle h : axis) {
      if (py::isinstance<py::bool_>(h) || !py::hasattr(h, "__index__"))
        throw TypeError("axis: expected an int or a tuple of ints, got an entry of type " +
                        py::str(py::type::of(h)).cast<std::string>());
      axes.push_back(py::int_(h.attr("__index__")()).cast<int64_t>());
    }
    return mean ? ops::mean(x, axes, keepdims) : ops::sum(x, axes, keepdims);
  }
  int64_t a = axis.cast<int64_t>();
  return mean ? ops::mean(x, a, keepdims) : ops::sum(x, a, keepdims);
}

std::string repr(const Var& v) {
  std::ostringstream o;
  py::object np = py::module_::import("numpy");
  std::string body = py::str(np.attr("array2string")(to_numpy(v.data()), "separator"_a = ", ",
                                                     "prefix"_a = "tensor("))
                         .cast<std::string>();
  o << "tensor(" << body << ", dtype=" << dtype_name(v.dtype());
  if (v.grad_fn()) o << ", grad_fn=" << v.grad_fn()->name;
  else if (v.requires_grad()) o << ", requires_grad=True";
  o << ")";
  return o.str();
}

}  // namespace

void bind_tensor(py::module_& m) {
  py::class_<Var> T(m, "Tensor", "A float32/float64 tensor that records the ops applied to it "
                                  "while gradients are wanted.");
  T.def_property_readonly("shape", [](const Var& v) {
       py::tuple t(v.shape().size());
       for (size_t i = 0; i < v.shape().size(); ++i) t[i] = v.shape()[i];
       return t;
     })
      .def_property_readonly("ndim", [](const Var& v) { return v.shape().size(); })
      .def_property_readonly("dtype", [](const Var& v) { return dtype_object(v.dtype()); })
      .def_property_readonly("size", [](const Var& v) { return v.numel(); })
      .def_property("requires_grad", &Var::requires_grad, &Var::set_requires_grad)
      .def_property_readonly("is_leaf", &Var::is_leaf)
      .def_property_readonly("grad_fn", [](const Var& v) -> py::object {
        if (!v.grad_fn()) return py::none();
        return py::str(v.grad_fn()->name);
      })
      .def_property(
          "grad", [](const Var& v) -> py::object {
            Var g = v.grad();
            if (!g.defined()) return py::none();
            return py::cast(g);
          },
          [](Var& v, py::object g) {
            if (g.is_none()) { v.set_grad(Var()); return; }
            Var gv = to_var(g, v.dtype(), "grad");
            if (gv.shape() != v.shape())
              throw ValueError("grad of shape " + shape_str(gv.shape()) +
                               " does not match tensor of shape " + shape_str(v.shape()));
            v.set_grad(gv);
          })
      .def("numpy", [](const Var& v) { return to_numpy(v.data()); },
           "The values as a NumPy array sharing this tensor's memory (no copy).")
      .def("__array__", [](const Var& v, py::object dtype, py::object copy) {
             py::array a = to_numpy(v.data());
             if (!dtype.is_none()) return py::array(a.attr("astype")(dtype));
             return a;
           }, "dtype"_a = py::none(), "copy"_a = py::none())
      .def("item", [](const Var& v) { return v.data().item(); })
      .def("detach", &Var::detach)
      .def("requires_grad_", [](Var& v, bool r) { v.set_requires_grad(r); return v; }, "requires_grad"_a = true)
      .def("zero_grad", [](Var& v) { v.set_grad(Var()); })
      .def("astype", [](const Var& v, py::object dt) {
             auto d = parse_dtype(dt);  // Fix: None gave an empty optional, dereferenced (UB)
             if (!d) throw TypeError("dtype must be float32 or float64, got None");
             return ops::cast(v, *d);
           })
      .def("backward", [](const Var& v, py::object grad, py::object retain_graph, bool create_graph) {
             std::vector<Var> gs;
             if (!grad.is_none()) gs.push_back(to_var(grad, v.dtype(), "grad"));
             int retain = retain_graph.is_none() ? -1 : int(retain_graph.cast<bool>());
             py::gil_scoped_release nogil;
             backward({v}, gs, create_graph, retain);
           },
           "gradient"_a = py::none(), "retain_graph"_a = py::none(), "create_graph"_a = false,
           "Accumulates d(self)/d(leaf) into .grad of every leaf that requires grad.")
      .def_property_readonly("T", [](const Var& v) { return ops::transpose(v); })
      .def("sum", [](const Var& v, py::object axis, bool keepdims) { return reduce(v, axis, keepdims, false); },
           "axis"_a = py::none(), "keepdims"_a = false)
      .def("mean", [](const Var& v, py::object axis, bool keepdims) { return reduce(v, axis, keepdims, true); },
           "axis"_a = py::none(), "keepdims"_a = false)
      .def("reshape", [](const Var& v, std::vector<int64_t> shape) { return ops::reshape(v, shape); })
      .def("__len__", [](const Var& v) {
        if (v.shape().empty()) throw TypeError("len() of a 0-d tensor");
        return v.shape()[0];
      })
      .def("__getitem__", [](const Var& v, py::slice s) {
        if (v.shape().empty()) throw ValueError("cannot slice a 0-d tensor");
        py::ssize_t start, stop, step, len;
        if (!s.compute(v.shape()[0], &start, &stop, &step, &len)) throw py::error_already_set();
        if (step != 1) throw ValueError("only contiguous row slices (step 1) are supported");
        return ops::slice(v, start, std::max(start, stop));
      })
      .def("__repr__", &repr)
      .def("__float__", [](const Var& v) { return v.data().item(); })
      .def("__neg__", [](const Var& a) { return ops::neg(a); })
      .def("__add__", [](const Var& a, py::handle b) { return ops::add(a, operand(b, a)); })
      .def("__radd__", [](const Var& a, py::handle b) { return ops::add(operand(b, a), a); })
      .def("__sub__", [](const Var& a, py::handle b) { return ops::sub(a, operand(b, a)); })
      .def("__rsub__", [](const Var& a, py::handle b) { return ops::sub(operand(b, a), a); })
      .def("__mul__", [](const Var& a, py::handle b) { return ops::mul(a, operand(b, a)); })
      .def("__rmul__", [](const Var& a, py::handle b) { return ops::mul(operand(b, a), a); })
      .def("__truediv__", [](const Var& a, py::handle b) { return ops::div(a, operand(b, a)); })
      .def("__rtruediv__", [](const Var& a, py::handle b) { return ops::div(operand(b, a), a); })
      .def("__matmul__", [](const Var& a, py::handle b) { return ops::matmul(a, operand(b, a)); })
      .def("__rmatmul__", [](const Var& a, py::handle b) { return ops::matmul(operand(b, a), a); })
      .def("__pow__", [](const Var& a, double p) { return ops::pow(a, p); })
      .def("__abs__", [](const Var& a) { return ops::abs(a); });
  // Make NumPy defer to our operators (array + tensor -> Tensor.__radd__).
  T.attr("__array_priority__") = 1000;

  m.def("tensor", [](py::object data, bool requires_grad, py::object dtype) {
          Tensor t = to_tensor(data, parse_dtype(dtype), "tensor");
          // A read-only array is copied: optimizers and .grad accumulation write in place.
          if (py::isinstance<py::array>(data) && !py::array(data).writeable()) t = t.clone();
          Var v(t, false);
          v.set_requires_grad(requires_grad);
          return v;
        },
        "data"_a, "requires_grad"_a = false, "dtype"_a = py::none(),
        "A Tensor over array-like data. Writable C-contiguous float32/float64 arrays are shared, "
        "not copied (as torch.from_numpy); read-only arrays are copied; other input is "
        "converted (ints -> float32).");

  m.def("grad", [](py::object outputs, py::object inputs, py::object grad_outputs,
                   bool create_graph, py::object retain_graph, bool allow_unused) {
          auto outs = tensor_list(outputs, "outputs");
          auto ins = tensor_list(inputs, "inputs");
          auto gouts = var_list(grad_outputs, "grad_outputs");
          int retain = retain_graph.is_none() ? -1 : int(retain_graph.cast<bool>());
          py::gil_scoped_release nogil;
          return grad(outs, ins, gouts, create_graph, retain, allow_unused);
        },
        "outputs"_a, "inputs"_a, "grad_outputs"_a = py::none(), "create_graph"_a = false,
        "retain_graph"_a = py::none(), "allow_unused"_a = false,
        "Gradients of the outputs with respect to the inputs, as a list of Tensors. With "
        "create_graph=True they are recorded, so they can be differentiated again.");

  m.def("is_grad_enabled", &grad_enabled);
  m.def("set_grad_enabled", &set_grad_enabled, "mode"_a);
  m.def("set_num_threads", [](py::handle n) {
          if (py::isinstance<py::bool_>(n) || !py::hasattr(n, "__index__"))
            throw TypeError("set_num_threads: n must be an integer, got " +
                            py::str(py::type::of(n)).cast<std::string>());
          py::int_ v(n.attr("__index__")());
          if (v < py::int_(1) || v > py::int_(max_num_threads()))
            throw ValueError("set_num_threads: n must be between 1 and " +
                             std::to_string(max_num_threads()) + ", got " + py::str(v).cast<std::string>());
          set_num_threads(v.cast<int>());
        }, "n"_a,
        "Threads for cgan's parallel loops and matrix products, in every Python thread "
        "(1 <= n <= 8x the hardware threads).");
  m.def("get_num_threads", &get_num_threads);
  m.def("_threads_in_parallel_region", [] {
          py::gil_scoped_release nogil;
          return threads_in_parallel_region();
        }, "Threads that ran a chunk of a large parallel loop started from this Python thread.");
  m.def("set_flush_denormal", &set_flush_denormal, "mode"_a,
        "Flush subnormal floats to zero (as torch.set_flush_denormal); returns whether the "
        "CPU supports it. Off by default.");
  m.def("_pool_live_bytes", &pool_live_bytes);
  m.def("_pool_cached_bytes", &pool_cached_bytes);

  // ---- ops ----
  py::module_ o = m.def_submodule("ops", "Differentiable ops on Tensors (array-likes are accepted).");
  auto un = [&](const char* name, Var (*f)(const Var&), const char* doc) {
    o.def(name, [f](py::handle x) { return f(to_var(x)); }, "x"_a, doc);
  };
  un("neg", &ops::neg, "-x");
  un("exp", &ops::exp, "e^x");
  un("log", &ops::log, "natural logarithm");
  un("log1p", &ops::log1p, "log(1 + x), accurate near 0");
  un("sqrt", &ops::sqrt, "square root");
  un("square", &ops::square, "x^2");
  un("abs", &ops::abs, "|x| (gradient sign(x), 0 at 0)");
  un("tanh", &ops::tanh, "hyperbolic tangent");
  un("sigmoid", &ops::sigmoid, "1 / (1 + e^-x), stable for large |x|");
  un("softplus", &ops::softplus, "log(1 + e^x) = max(x, 0) + log1p(e^-|x|)");
  un("log_sigmoid", &ops::log_sigmoid, "log(sigmoid(x)) = -softplus(-x), stable");
  un("relu", &ops::relu, "max(x, 0)");
  un("lambertw", &ops::lambertw, "principal branch W0 of the Lambert W function (x >= -1/e)");
  un("lambertw_exp", &ops::lambertw_exp, "W0(e^y) computed without forming e^y");
  un("transpose", &ops::transpose, "transpose of a 2-D tensor");
  un("row_norm", &ops::row_norm, "per-row L2 norm of an (N, D) tensor -> (N, 1); gradient 0 at 0");
  o.def("leaky_relu", [](py::handle x, double s) { return ops::leaky_relu(to_var(x), s); },
        "x"_a, "negative_slope"_a = 0.01);
  o.def("elu", [](py::handle x, double a) { return ops::elu(to_var(x), a); }, "x"_a, "alpha"_a = 1.0);
  o.def("pow", [](py::handle x, double p) { return ops::pow(to_var(x), p); }, "x"_a, "p"_a);
  o.def("clamp", [](py::handle x, py::object lo, py::object hi) {
          double l = lo.is_none() ? -INFINITY : lo.cast<double>();
          double h = hi.is_none() ? INFINITY : hi.cast<double>();
          return ops::clamp(to_var(x), l, h);
        }, "x"_a, "min"_a = py::none(), "max"_a = py::none());
  auto bin = [&](const char* name, Var (*f)(const Var&, const Var&)) {
    o.def(name, [f](py::handle a, py::handle b) {
      Var va = to_var(a, std::nullopt, "a");
      return f(va, operand(b, va));
    }, "a"_a, "b"_a);
  };
  bin("add", &ops::add);
  bin("sub", &ops::sub);
  bin("mul", &ops::mul);
  bin("div", &ops::div);
  o.def("matmul", [](py::handle a, py::handle b, bool ta, bool tb) {
          return ops::matmul(to_var(a, std::nullopt, "a"), to_var(b, std::nullopt, "b"), ta, tb);
        }, "a"_a, "b"_a, "transpose_a"_a = false, "transpose_b"_a = false,
        "op(a) @ op(b) for 2-D tensors; the transposes are read in place, never copied.");
  o.def("linear", [](py::handle x, py::handle w, py::object b) {
          Var bv = b.is_none() ? Var() : to_var(b, std::nullopt, "bias");
          return ops::linear(to_var(x), to_var(w, std::nullopt, "weight"), bv);
        }, "x"_a, "weight"_a, "bias"_a = py::none(), "x @ weight.T + bias in one fused op");
  o.def("sum", [](py::handle x, py::object axis, bool k) { return reduce(to_var(x), axis, k, false); },
        "x"_a, "axis"_a = py::none(), "keepdims"_a = false);
  o.def("mean", [](py::handle x, py::object axis, bool k) { return reduce(to_var(x), axis, k, true); },
        "x"_a, "axis"_a = py::none(), "keepdims"_a = false);
  o.def("reshape", [](py::handle x, std::vector<int64_t> s) { return ops::reshape(to_var(x), s); });
  o.def("concat", [](py::object xs) {
          auto vs = var_list(xs, "concat");
          for (const Var& v : vs)  // Fix: a None entry became an undefined Var (null dereference)
            if (!v.defined()) throw TypeError("concat: expected tensors or array-likes, got None");
          return ops::concat(vs);
        }, "tensors"_a,
        "concatenate along the batch axis (axis 0)");
  o.def("slice", [](py::handle x, int64_t b, int64_t e) { return ops::slice(to_var(x), b, e); },
        "x"_a, "begin"_a, "end"_a, "rows [begin, end) along the batch axis");

  // ---- RNG ----
  py::class_<Rng>(m, "RNG", "A seeded random number generator (xoshiro256**).")
      .def(py::init<uint64_t>(), "seed"_a = 0)
      .def("normal", [](Rng& r, std::vector<int64_t> shape, py::object dtype) {
             return Var(r.normal(shape, parse_dtype(dtype).value_or(DType::f32)));
           }, "shape"_a, "dtype"_a = py::none())
      .def("uniform", [](Rng& r, std::vector<int64_t> shape, double lo, double hi, py::object dtype) {
             return Var(r.uniform(shape, parse_dtype(dtype).value_or(DType::f32), lo, hi));
           }, "shape"_a, "low"_a = 0.0, "high"_a = 1.0, "dtype"_a = py::none())
      .def("integers", [](Rng& r, int64_t n, int64_t size) {
             py::array_t<int64_t> out(size);
             auto* d = out.mutable_data();
             for (int64_t i = 0; i < size; ++i) d[i] = r.integer(n);
             return out;
           }, "n"_a, "size"_a)
      .def("get_state", [](const Rng& r) {
             auto s = r.state();
             py::array_t<uint64_t> out(4);
             std::copy(s.begin(), s.end(), out.mutable_data());
             return out;
           })
      .def("set_state", [](Rng& r, py::array_t<uint64_t, py::array::c_style | py::array::forcecast> s) {
             if (s.size() != 4) throw ValueError("RNG state must have 4 uint64 words");
             r.set_state({s.at(0), s.at(1), s.at(2), s.at(3)});
           });
}

}  // namespace cgan::bind
