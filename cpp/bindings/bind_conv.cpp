// cgan.ops.conv2d and cgan.ops.conv_transpose2d.
#include "convert.hpp"
#include "ops/conv.hpp"

namespace cgan::bind {

using namespace pybind11::literals;

namespace {
// One int (not bool) of a stride/padding argument, else TypeError naming it.
int64_t int_value(py::handle h, const char* who, const char* what) {
  py::module_ np = py::module_::import("numpy");
  bool is_bool = PyBool_Check(h.ptr()) || py::isinstance(h, np.attr("bool_"));
  if (is_bool || !PyIndex_Check(h.ptr()))
    throw TypeError(std::string(who) + ": " + what + " must be an int or a pair of ints, got " +
                    py::repr(h).cast<std::string>());
  return py::reinterpret_borrow<py::object>(h).attr("__index__")().cast<int64_t>();
}

// An int n -> (n, n); a pair (a, b) -> (a, b); TypeError for anything else.
ops::Pair int_pair(py::handle v, const char* who, const char* what) {
  if (py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v)) {
    py::sequence s = py::reinterpret_borrow<py::sequence>(v);
    if (s.size() != 2)
      throw TypeError(std::string(who) + ": " + what + " must be an int or a pair of ints, got " +
                      py::repr(v).cast<std::string>());
    return {int_value(s[0], who, what), int_value(s[1], who, what)};
  }
  int64_t n = int_value(v, who, what);
  return {n, n};
}

Var optional_var(py::handle b, const char* what) {
  return b.is_none() ? Var() : to_var(b, std::nullopt, what);
}
}  // namespace

void bind_conv(py::module_& m) {
  py::module_ o = m.attr("ops");
  o.def("conv2d",
        [](py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding) {
          ops::ConvGeometry g;
          g.stride = int_pair(stride, "conv2d", "stride");
          g.padding = int_pair(padding, "conv2d", "padding");
          return ops::conv2d(to_var(x), to_var(w, std::nullopt, "weight"), optional_var(b, "bias"), g);
        },
        "x"_a, "weight"_a, "bias"_a = py::none(), "stride"_a = 1, "padding"_a = 0,
        R"doc(2-D convolution (cross-correlation, as torch.nn.functional.conv2d).

x: (N, C_in, H, W); weight: (C_out, C_in, kh, kw); bias: (C_out,) or None.
stride, padding: an int or a pair (height, width); stride >= 1, padding >= 0 (zeros).
Returns (N, C_out, H_out, W_out) with
    H_out = floor((H + 2 padding[0] - kh) / stride[0]) + 1   (W_out likewise).
Float32 with float64 operands computes in float64. Differentiable to any order.)doc");
  o.def("conv_transpose2d",
        [](py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding,
           py::handle output_padding) {
          ops::ConvGeometry g;
          g.stride = int_pair(stride, "conv_transpose2d", "stride");
          g.padding = int_pair(padding, "conv_transpose2d", "padding");
          g.output_padding = int_pair(output_padding, "conv_transpose2d", "output_padding");
          return ops::conv_transpose2d(to_var(x), to_var(w, std::nullopt, "weight"),
                                       optional_var(b, "bias"), g);
        },
        "x"_a, "weight"_a, "bias"_a = py::none(), "stride"_a = 1, "padding"_a = 0,
        "output_padding"_a = 0,
        R"doc(2-D transposed convolution (as torch.nn.functional.conv_transpose2d): the
adjoint of conv2d in its input, i.e. the gradient of a convolution with this weight.

x: (N, C_in, H, W); weight: (C_in, C_out, kh, kw); bias: (C_out,) or None.
stride, padding, output_padding: an int or a pair; stride >= 1, padding >= 0,
0 <= output_padding < stride. Returns (N, C_out, H_out, W_out) with
    H_out = (H - 1) stride[0] - 2 padding[0] + kh + output_padding[0]   (W_out likewise).
Float32 with float64 operands computes in float64. Differentiable to any order.)doc");
}

}  // namespace cgan::bind
