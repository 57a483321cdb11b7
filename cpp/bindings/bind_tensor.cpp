// cgan.Tensor, cgan.grad, grad mode, the ops, threads and the RNG.
#include <cmath>
#include <sstream>

#include "autograd/engine.hpp"
#include "convert.hpp"
#include "ops/norm.hpp"
#include "ops/ops.hpp"
#include "tensor/bf16_gemm.hpp"
#include "tensor/blas.hpp"
#include "tensor/kernels.hpp"
#include "tensor/parallel.hpp"
#include "tensor/precision.hpp"
#include "tensor/rng.hpp"

namespace cgan::bind {

using namespace pybind11::literals;

namespace {

// Right-hand operand of an arithmetic operator: a Tensor, a Python number (takes the
// tensor's dtype, as a NumPy scalar would) or an array-like. `what` names it in errors.
Var operand(py::handle other, const Var& like, const char* what = "operand") {
  if (py::isinstance<Var>(other)) return other.cast<Var>();
  if (py::isinstance<py::float_>(other) || py::isinstance<py::int_>(other))
    return ops::scalar_like(number_value(other, what), like);
  return to_var(other, std::nullopt, what);
}

// A shape: a sequence of integers (each fitting int64).
Shape shape_value(py::handle obj, const char* what) {
  if (py::isinstance<py::str>(obj) || !py::isinstance<py::sequence>(obj))
    throw TypeError(std::string(what) + " must be a sequence of integers, got " + type_name(obj));
  Shape out;
  for (py::handle h : obj) out.push_back(index_value(h, what));
  return out;
}

// retain_graph: None (keep the graph only with create_graph, as torch) or a bool.
int retain_flag(py::handle v, const char* what) {
  return v.is_none() ? -1 : int(bool_value(v, what));
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

Var reduce(const Var& x, py::object axis, py::handle keepdims_arg, bool mean) {
  const char* fn = mean ? "mean" : "sum";
  bool keepdims = bool_value(keepdims_arg, mean ? "mean: keepdims" : "sum: keepdims");
  if (axis.is_none()) {
    Var r = mean ? ops::mean(x) : ops::sum(x);
    if (keepdims) r = ops::reshape(r, Shape(x.shape().size(), 1));
    return r;
  }
  if (py::isinstance<py::tuple>(axis) || py::isinstance<py::list>(axis)) {
    // A tuple of axes (NumPy): negative ones count from the end, each at most once.
    std::vector<int64_t> axes;
    for (py::handle h : axis) axes.push_back(index_value(h, mean ? "mean: axis" : "sum: axis"));
    return mean ? ops::mean(x, axes, keepdims) : ops::sum(x, axes, keepdims);
  }
  int64_t a = index_value(axis, mean ? "mean: axis" : "sum: axis");
  int64_t nd = static_cast<int64_t>(x.shape().size());
  if (a < -nd || a >= nd)
    throw ValueError(std::string(fn) + ": axis " + std::to_string(a) + " is out of range for a tensor of " +
                     std::to_string(nd) + " axes (expected -" + std::to_string(nd) + " <= axis < " +
                     std::to_string(nd) + ")");
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
      .def("requires_grad_", [](Var& v, py::handle r) {
             v.set_requires_grad(bool_value(r, "requires_grad_: requires_grad"));
             return v;
           }, "requires_grad"_a = true)
      .def("zero_grad", [](Var& v) { v.set_grad(Var()); })
      .def("astype", [](const Var& v, py::object dt) {
             auto d = parse_dtype(dt);  // None is no dtype here: refused, never dereferenced
             if (!d) throw TypeError("dtype must be float32 or float64, got None");
             return ops::cast(v, *d);
           })
      .def("backward", [](const Var& v, py::object grad, py::object retain_graph, py::handle create) {
             std::vector<Var> gs;
             if (!grad.is_none()) gs.push_back(to_var(grad, v.dtype(), "backward: gradient"));
             int retain = retain_flag(retain_graph, "backward: retain_graph");
             bool create_graph = bool_value(create, "backward: create_graph");
             py::gil_scoped_release nogil;
             backward({v}, gs, create_graph, retain);
           },
           "gradient"_a = py::none(), "retain_graph"_a = py::none(), "create_graph"_a = false,
           "Accumulates d(self)/d(leaf) into .grad of every leaf that requires grad.")
      .def_property_readonly("T", [](const Var& v) { return ops::transpose(v); })
      .def("sum", [](const Var& v, py::object axis, py::handle keepdims) { return reduce(v, axis, keepdims, false); },
           "axis"_a = py::none(), "keepdims"_a = false)
      .def("mean", [](const Var& v, py::object axis, py::handle keepdims) { return reduce(v, axis, keepdims, true); },
           "axis"_a = py::none(), "keepdims"_a = false)
      .def("reshape", [](const Var& v, py::handle shape) {
             return ops::reshape(v, shape_value(shape, "reshape: shape"));
           }, "shape"_a)
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
      .def("__add__", [](const Var& a, py::handle b) { return ops::add(a, operand(b, a, "operand of +")); })
      .def("__radd__", [](const Var& a, py::handle b) { return ops::add(operand(b, a, "operand of +"), a); })
      .def("__sub__", [](const Var& a, py::handle b) { return ops::sub(a, operand(b, a, "operand of -")); })
      .def("__rsub__", [](const Var& a, py::handle b) { return ops::sub(operand(b, a, "operand of -"), a); })
      .def("__mul__", [](const Var& a, py::handle b) { return ops::mul(a, operand(b, a, "operand of *")); })
      .def("__rmul__", [](const Var& a, py::handle b) { return ops::mul(operand(b, a, "operand of *"), a); })
      .def("__truediv__", [](const Var& a, py::handle b) { return ops::div(a, operand(b, a, "operand of /")); })
      .def("__rtruediv__", [](const Var& a, py::handle b) { return ops::div(operand(b, a, "operand of /"), a); })
      .def("__matmul__", [](const Var& a, py::handle b) { return ops::matmul(a, operand(b, a, "operand of @")); })
      .def("__rmatmul__", [](const Var& a, py::handle b) { return ops::matmul(operand(b, a, "operand of @"), a); })
      .def("__pow__", [](const Var& a, py::handle p) { return ops::pow(a, number_value(p, "exponent of **")); })
      .def("__abs__", [](const Var& a) { return ops::abs(a); });
  // Make NumPy defer to our operators (array + tensor -> Tensor.__radd__).
  T.attr("__array_priority__") = 1000;

  m.def("tensor", [](py::object data, py::handle requires_grad, py::object dtype) {
          bool rg = bool_value(requires_grad, "tensor: requires_grad");
          Tensor t = to_tensor(data, parse_dtype(dtype), "tensor");
          // A read-only array is copied: optimizers and .grad accumulation write in place.
          if (py::isinstance<py::array>(data) && !py::array(data).writeable()) t = t.clone();
          Var v(t, false);
          v.set_requires_grad(rg);
          return v;
        },
        "data"_a, "requires_grad"_a = false, "dtype"_a = py::none(),
        "A Tensor over array-like data. Writable C-contiguous float32/float64 arrays are shared, "
        "not copied (as torch.from_numpy); read-only arrays are copied; other input is "
        "converted (ints -> float32).");

  m.def("grad", [](py::object outputs, py::object inputs, py::object grad_outputs,
                   py::handle create, py::object retain_graph, py::handle unused) {
          bool create_graph = bool_value(create, "grad: create_graph");
          bool allow_unused = bool_value(unused, "grad: allow_unused");
          int retain = retain_flag(retain_graph, "grad: retain_graph");
          auto outs = tensor_list(outputs, "outputs");
          auto ins = tensor_list(inputs, "inputs");
          auto gouts = var_list(grad_outputs, "grad_outputs");
          py::gil_scoped_release nogil;
          return grad(outs, ins, gouts, create_graph, retain, allow_unused);
        },
        "outputs"_a, "inputs"_a, "grad_outputs"_a = py::none(), "create_graph"_a = false,
        "retain_graph"_a = py::none(), "allow_unused"_a = false,
        "Gradients of the outputs with respect to the inputs, as a list of Tensors. With "
        "create_graph=True they are recorded, so they can be differentiated again.");

  m.def("is_grad_enabled", &grad_enabled);
  m.def("set_grad_enabled", [](py::handle mode) { set_grad_enabled(bool_value(mode, "set_grad_enabled: mode")); },
        "mode"_a);
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
  m.def("set_matmul_precision", [](py::handle precision) {
          if (!py::isinstance<py::str>(precision))
            throw TypeError("set_matmul_precision: precision must be a string (\"float32\", \"bf16\" or "
                            "\"bf16-emulated\"), got " +
                            py::str(py::type::of(precision)).cast<std::string>());
          kernels::set_matmul_precision(precision.cast<std::string>());
        }, "precision"_a,
        "Precision of matrix products and convolutions: \"float32\" (default); \"bf16\" "
        "(bfloat16 products, float32 accumulation, on cgan's AVX512_BF16 kernel; needs a CPU "
        "with AVX512_BF16, detected at run time: elsewhere a RuntimeError saying what is "
        "missing, and the precision stays as it was); or \"bf16-emulated\", the same arithmetic on "
        "any CPU: every product's operands rounded to bfloat16 (nearest even), summed in "
        "float32, weights and everything else float32. Slower than float32; for measuring "
        "what bfloat16 does to training.");
  m.def("get_matmul_precision", [] { return kernels::matmul_precision_name(kernels::get_matmul_precision()); });
  m.def("cpu_features", [] {
          const auto& f = kernels::cpu_features();
          py::dict d;
          d["avx2_fma"] = f.avx2_fma;
          d["avx512f"] = f.avx512f;
          d["avx512_bf16"] = f.avx512_bf16;
          d["amx_bf16"] = f.amx_bf16;
          return d;
        }, "The CPU features cgan's kernels can use here (cpuid, and the OS saving their registers).");
  m.def("_bf16_gemm", [](py::array_t<float> a, py::array_t<float> b, py::array_t<float> c, bool accumulate,
                         const std::string& kernel) {
          // Tests: the bfloat16 kernel on NumPy views as they are (a transposed view is a
          // strided operand), into c (C-contiguous) in place.
          if (a.ndim() != 2 || b.ndim() != 2 || c.ndim() != 2 || a.shape(1) != b.shape(0) ||
              c.shape(0) != a.shape(0) || c.shape(1) != b.shape(1))
            throw ValueError("_bf16_gemm: expects a (m, k), b (k, n) and c (m, n)");
          if (!(c.flags() & py::array::c_style) || !c.writeable())
            throw ValueError("_bf16_gemm: c must be a writeable C-contiguous array");
          auto strided = [](const py::array_t<float>& x) {
            if (x.strides(0) % 4 || x.strides(1) % 4 || x.strides(0) <= 0 || x.strides(1) <= 0)
              throw ValueError("_bf16_gemm: operand strides must be positive multiples of 4 bytes");
            return kernels::StridedF32{x.data(), x.strides(0) / 4, x.strides(1) / 4};
          };
          if (kernel != "portable" && kernel != "avx512_bf16")
            throw ValueError("_bf16_gemm: kernel must be \"portable\" or \"avx512_bf16\", got \"" + kernel + "\"");
          const auto which = kernel == "portable" ? kernels::Bf16Kernel::portable : kernels::Bf16Kernel::hardware;
          kernels::bf16_gemm(a.shape(0), b.shape(1), a.shape(1), strided(a), strided(b), c.mutable_data(),
                             c.shape(1), accumulate, which);
        }, "a"_a, "b"_a, "c"_a, "accumulate"_a, "kernel"_a,
        "c [+]= a @ b on the bfloat16 kernel (\"portable\" or \"avx512_bf16\"); for tests.");
  m.def("_set_bf16_kernel", &kernels::set_bf16_products_kernel, "name"_a,
        "The kernel \"bf16\" products run on: \"avx512_bf16\" (default) or \"portable\" "
        "(tests: makes \"bf16\" settable on any CPU, and very slow).");
  m.def("_bf16_kernel", [] { return kernels::bf16_kernel_name(kernels::bf16_products_kernel()); });
  m.def("_bf16_self_check", &kernels::bf16_self_check,
        "The AVX512_BF16 kernel against the portable one: \"\" when they agree (tests).");
  m.def("_load_openblas", [](const std::string& path) { kernels::load_openblas(path); }, "path"_a,
        "Use the OpenBLAS of this shared library (scipy_openblas32's) for float32 products "
        "(cgan's import does this when scipy_openblas32 is installed).");
  m.def("gemm_backend", &kernels::gemm_backend,
        "What float32 matrix products run on: \"openblas\" (scipy_openblas32's OpenBLAS, one "
        "thread per row block of cgan's pool) or \"builtin\" (cgan's packed AVX2 kernel).");
  m.def("_set_gemm_backend", &kernels::set_gemm_backend, "name"_a,
        "Switch float32 products to \"openblas\" or \"builtin\" (benchmarks, tests).");
  m.def("_openblas_config", &kernels::openblas_config, "OpenBLAS's build string, or \"\".");
  m.def("_threads_in_parallel_region", [] {
          py::gil_scoped_release nogil;
          return threads_in_parallel_region();
        }, "Threads that ran a chunk of a large parallel loop started from this Python thread.");
  m.def("set_flush_denormal", [](py::handle mode) {
          return set_flush_denormal(bool_value(mode, "set_flush_denormal: mode"));
        }, "mode"_a,
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
  // negative_slope and alpha: any finite number (negative too, as torch); NaN, inf and
  // values beyond the dtype's range are refused by the op.
  o.def("leaky_relu", [](py::handle x, py::handle s) {
          return ops::leaky_relu(to_var(x), number_value(s, "leaky_relu: negative_slope"));
        }, "x"_a, "negative_slope"_a = 0.01, "x if x >= 0 else negative_slope * x (NaN stays NaN)");
  o.def("elu", [](py::handle x, py::handle a) { return ops::elu(to_var(x), number_value(a, "elu: alpha")); },
        "x"_a, "alpha"_a = 1.0, "x if x > 0 else alpha * (e^x - 1)");
  o.def("pow", [](py::handle x, py::handle p) { return ops::pow(to_var(x), number_value(p, "pow: p")); },
        "x"_a, "p"_a, "x^p elementwise (C's pow: pow(1, NaN) = 1, as NumPy)");
  // Bounds as np.clip: a NaN bound makes every value NaN; None is no bound.
  o.def("clamp", [](py::handle x, py::object lo, py::object hi) {
          double l = lo.is_none() ? -INFINITY : number_value(lo, "clamp: min");
          double h = hi.is_none() ? INFINITY : number_value(hi, "clamp: max");
          return ops::clamp(to_var(x), l, h);
        }, "x"_a, "min"_a = py::none(), "max"_a = py::none(),
        "min(max(x, min), max); NaN in x or in a bound gives NaN, as np.clip");
  auto bin = [&](const char* name, Var (*f)(const Var&, const Var&)) {
    o.def(name, [f](py::handle a, py::handle b) {
      Var va = to_var(a, std::nullopt, "a");
      return f(va, operand(b, va, "b"));
    }, "a"_a, "b"_a);
  };
  bin("add", &ops::add);
  bin("sub", &ops::sub);
  bin("mul", &ops::mul);
  bin("div", &ops::div);
  o.def("matmul", [](py::handle a, py::handle b, py::handle ta, py::handle tb) {
          return ops::matmul(to_var(a, std::nullopt, "a"), to_var(b, std::nullopt, "b"),
                             bool_value(ta, "matmul: transpose_a"), bool_value(tb, "matmul: transpose_b"));
        }, "a"_a, "b"_a, "transpose_a"_a = false, "transpose_b"_a = false,
        "op(a) @ op(b) for 2-D tensors; the transposes are read in place, never copied.");
  o.def("linear", [](py::handle x, py::handle w, py::object b) {
          Var bv = b.is_none() ? Var() : to_var(b, std::nullopt, "bias");
          return ops::linear(to_var(x), to_var(w, std::nullopt, "weight"), bv);
        }, "x"_a, "weight"_a, "bias"_a = py::none(), "x @ weight.T + bias in one fused op");
  o.def("sum", [](py::handle x, py::object axis, py::handle k) { return reduce(to_var(x), axis, k, false); },
        "x"_a, "axis"_a = py::none(), "keepdims"_a = false);
  o.def("mean", [](py::handle x, py::object axis, py::handle k) { return reduce(to_var(x), axis, k, true); },
        "x"_a, "axis"_a = py::none(), "keepdims"_a = false);
  o.def("reshape", [](py::handle x, py::handle s) { return ops::reshape(to_var(x), shape_value(s, "reshape: shape")); },
        "x"_a, "shape"_a);
  o.def("concat", [](py::object xs) {
          auto vs = var_list(xs, "concat");
          for (const Var& v : vs)  // var_list keeps None as an undefined Var: refuse it
            if (!v.defined()) throw TypeError("concat: expected tensors or array-likes, got None");
          return ops::concat(vs);
        }, "tensors"_a,
        "concatenate along the batch axis (axis 0)");
  o.def("slice", [](py::handle x, py::handle b, py::handle e) {
          return ops::slice(to_var(x), index_value(b, "slice: begin"), index_value(e, "slice: end"));
        },
        "x"_a, "begin"_a, "end"_a, "rows [begin, end) along the batch axis");

  // ---- RNG ----
  py::class_<Rng>(m, "RNG", "A seeded random number generator (xoshiro256**).")
      .def(py::init([](py::handle seed) { return Rng(seed_value(seed, "RNG: seed")); }), "seed"_a = 0)
      .def("normal", [](Rng& r, py::handle shape, py::object dtype) {
             return Var(r.normal(shape_value(shape, "RNG.normal: shape"), parse_dtype(dtype).value_or(DType::f32)));
           }, "shape"_a, "dtype"_a = py::none())
      .def("uniform", [](Rng& r, py::handle shape, py::handle low, py::handle high, py::object dtype) {
             // As NumPy's Generator.uniform: the bounds and their range must be finite.
             double lo = finite_number_value(low, "RNG.uniform: low");
             double hi = finite_number_value(high, "RNG.uniform: high");
             if (!std::isfinite(hi - lo))
               throw ValueError("RNG.uniform: high - low overflows float64");
             return Var(r.uniform(shape_value(shape, "RNG.uniform: shape"),
                                  parse_dtype(dtype).value_or(DType::f32), lo, hi));
           }, "shape"_a, "low"_a = 0.0, "high"_a = 1.0, "dtype"_a = py::none())
      .def("integers", [](Rng& r, py::handle n_arg, py::handle size_arg) {
             int64_t n = index_value(n_arg, "RNG.integers: n");
             int64_t size = index_value(size_arg, "RNG.integers: size");
             if (n < 1) throw ValueError("RNG.integers: n must be >= 1, got " + std::to_string(n));
             if (size < 0) throw ValueError("RNG.integers: size must be >= 0, got " + std::to_string(size));
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
      .def("set_state", [](Rng& r, py::handle s) {
             auto w = rng_words(s, 4, "RNG.set_state: state");
             r.set_state({w[0], w[1], w[2], w[3]});
           }, "state"_a, "Restores a state from get_state(): 4 unsigned 64-bit words, not all zero.");
}

}  // namespace cgan::bind
