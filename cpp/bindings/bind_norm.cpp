// cgan.ops.batch_norm / layer_norm / upsample_nearest / flatten, with the semantics of
// torch.nn.functional: NumPy arrays or cgan Tensors in, cgan Tensors out.
#include <cmath>

#include "convert.hpp"
#include "ops/norm.hpp"
#include "ops/ops.hpp"

namespace cgan::bind {

using namespace pybind11::literals;

namespace {

std::string type_name(py::handle h) { return py::str(py::type::of(h)).cast<std::string>(); }

Var optional_var(py::handle h, const char* what) {
  return h.is_none() ? Var() : to_var(h, std::nullopt, what);
}

// A Python int (not bool) as int64, else TypeError naming `what`.
int64_t int_value(py::handle h, const char* what) {
  if (py::isinstance<py::bool_>(h) || !py::hasattr(h, "__index__"))
    throw TypeError(std::string(what) + " must be an int, got " + type_name(h));
  return py::int_(h.attr("__index__")()).cast<int64_t>();
}

// A running statistic. In training mode it is updated in place, so it must be a
// cgan.Tensor or a writable, C-contiguous float32/float64 NumPy array (any other input
// would be converted into a copy and the update lost).
Tensor running_tensor(py::handle h, const char* what, bool updated) {
  if (py::isinstance<Var>(h)) return h.cast<Var>().data();
  if (updated) {
    bool ok = false;
    if (py::isinstance<py::array>(h)) {
      py::array a = py::reinterpret_borrow<py::array>(h);
      char kind = a.dtype().kind();
      ok = kind == 'f' && (a.itemsize() == 4 || a.itemsize() == 8) && a.writeable() &&
           (a.flags() & py::array::c_style) && a.dtype().attr("isnative").cast<bool>();
    }
    if (!ok)
      throw TypeError(std::string("batch_norm: ") + what + " is updated in place in training mode, so it "
                      "must be a cgan.Tensor or a writable C-contiguous float32/float64 NumPy array, got " +
                      (py::isinstance<py::array>(h) ? "an array of dtype " +
                           py::str(py::reinterpret_borrow<py::array>(h).dtype()).cast<std::string>() +
                           " (or read-only / non-contiguous)"
                       : type_name(h)));
  }
  return to_tensor(h, std::nullopt, what);
}

void check_channels(const Tensor& t, int64_t C, const char* what) {
  if (t.shape() != Shape{C})
    throw ValueError(std::string("batch_norm: ") + what + " has shape " + shape_str(t.shape()) +
                     ", expected (" + std::to_string(C) + ",) (one value per channel)");
}

// running = (1 - momentum) * running + momentum * stat, in the running tensor's dtype.
void blend_into(Tensor& running, const Tensor& stat, double momentum, double factor) {
  dispatch(running.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* r = running.data<T>();
    Tensor s = stat.to(DType::f64);
    const double* sv = s.data<double>();
    for (int64_t i = 0; i < running.numel(); ++i)
      r[i] = T((1.0 - momentum) * double(r[i]) + momentum * (sv[i] * factor));
  });
}

Var batch_norm(py::handle x_in, py::handle rm_in, py::handle rv_in, py::handle w_in, py::handle b_in,
               bool training, py::handle momentum_in, py::handle eps_in) {
  Var x = to_var(x_in, std::nullopt, "x");
  Var w = optional_var(w_in, "weight"), b = optional_var(b_in, "bias");
  if (momentum_in.is_none())
    throw TypeError("batch_norm: momentum=None (a cumulative moving average) is not supported; "
                    "pass a number in [0, 1]");
  const double momentum = number_value(momentum_in, "batch_norm: momentum");
  if (!(momentum >= 0.0 && momentum <= 1.0))
    throw ValueError("batch_norm: momentum must be in [0, 1], got " + std::to_string(momentum));
  const double eps = number_value(eps_in, "batch_norm: eps");
  if (!(eps > 0) || !std::isfinite(eps))
    throw ValueError("batch_norm: eps must be a positive finite number, got " + std::to_string(eps));
  if (rm_in.is_none() != rv_in.is_none())
    throw ValueError("batch_norm: give both running_mean and running_var, or neither");
  const bool has_running = !rm_in.is_none();
  if (x.shape().size() < 2)
    throw ValueError("batch_norm: expected x of shape (N, C), (N, C, L) or (N, C, H, W), got " +
                     shape_str(x.shape()));
  const int64_t C = x.shape()[1];
  if (!training) {
    if (!has_running)
      throw ValueError("batch_norm: eval mode (training=False) needs running_mean and running_var");
    Tensor rm = running_tensor(rm_in, "running_mean", false);
    Tensor rv = running_tensor(rv_in, "running_var", false);
    check_channels(rm, C, "running_mean");
    check_channels(rv, C, "running_var");
    return ops::batch_norm_eval(x, rm, rv, w, b, eps);
  }
  Tensor rm, rv;
  if (has_running) {
    rm = running_tensor(rm_in, "running_mean", true);
    rv = running_tensor(rv_in, "running_var", true);
    check_channels(rm, C, "running_mean");
    check_channels(rv, C, "running_var");
  }
  ops::BatchStats stats;
  Var y = ops::batch_norm_train(x, w, b, eps, &stats);
  if (has_running) {  // only after the forward succeeded: a failed call changes nothing
    const double n = double(x.numel() / C);
    blend_into(rm, stats.mean, momentum, 1.0);
    blend_into(rv, stats.var, momentum, n / (n - 1.0));  // unbiased, as PyTorch
  }
  return y;
}

Var layer_norm(py::handle x_in, py::handle shape_in, py::handle w_in, py::handle b_in, py::handle eps_in) {
  Var x = to_var(x_in, std::nullopt, "x");
  Shape ns;
  if (py::isinstance<py::tuple>(shape_in) || py::isinstance<py::list>(shape_in)) {
    for (py::handle h : shape_in) ns.push_back(int_value(h, "layer_norm: normalized_shape entries"));
  } else {
    ns.push_back(int_value(shape_in, "layer_norm: normalized_shape"));
  }
  const Shape& xs = x.shape();
  const bool fits = !ns.empty() && ns.size() <= xs.size() &&
                    std::equal(ns.begin(), ns.end(), xs.end() - ns.size());
  if (!fits)
    throw ValueError("layer_norm: normalized_shape " + shape_str(ns) +
                     " does not match the trailing dimensions of x of shape " + shape_str(xs));
  const double eps = number_value(eps_in, "layer_norm: eps");
  return ops::layer_norm(x, int64_t(ns.size()), optional_var(w_in, "weight"), optional_var(b_in, "bias"),
                         eps);
}

Var upsample_nearest(py::handle x_in, py::handle scale) {
  Var x = to_var(x_in, std::nullopt, "x");
  int64_t sh, sw;
  if (py::isinstance<py::tuple>(scale) || py::isinstance<py::list>(scale)) {
    if (py::len(scale) != 2)
      throw ValueError("upsample_nearest: scale_factor must be an int or a pair of ints, got " +
                       py::repr(scale).cast<std::string>());
    sh = int_value(scale[py::int_(0)], "upsample_nearest: scale_factor");
    sw = int_value(scale[py::int_(1)], "upsample_nearest: scale_factor");
  } else {
    sh = sw = int_value(scale, "upsample_nearest: scale_factor");
  }
  if (sh < 1 || sw < 1)
    throw ValueError("upsample_nearest: scale_factor must be >= 1, got (" + std::to_string(sh) + ", " +
                     std::to_string(sw) + ")");
  return ops::upsample_nearest(x, sh, sw);
}

Var flatten(py::handle x_in, py::handle start_in, py::handle end_in) {
  Var x = to_var(x_in, std::nullopt, "x");
  const Shape& s = x.shape();
  const int64_t nd = std::max<int64_t>(int64_t(s.size()), 1);
  auto dim = [&](py::handle h, const char* what) {
    int64_t d = int_value(h, what);
    int64_t a = d < 0 ? d + nd : d;
    if (a < 0 || a >= nd)
      throw ValueError(std::string("flatten: ") + what + "=" + std::to_string(d) +
                       " is out of range for x of shape " + shape_str(s));
    return a;
  };
  const int64_t start = dim(start_in, "start_dim"), end = dim(end_in, "end_dim");
  if (start > end)
    throw ValueError("flatten: start_dim (" + std::to_string(start) + ") comes after end_dim (" +
                     std::to_string(end) + ") for x of shape " + shape_str(s));
  if (s.empty()) return ops::reshape(x, {1});
  Shape out(s.begin(), s.begin() + start);
  int64_t n = 1;
  for (int64_t i = start; i <= end; ++i) n *= s[i];
  out.push_back(n);
  out.insert(out.end(), s.begin() + end + 1, s.end());
  return ops::reshape(x, out);
}

}  // namespace

void bind_norm(py::module_& m) {
  py::module_ o = m.attr("ops");
  o.def("batch_norm", &batch_norm, "x"_a, "running_mean"_a = py::none(), "running_var"_a = py::none(),
        "weight"_a = py::none(), "bias"_a = py::none(), "training"_a = false, "momentum"_a = 0.1,
        "eps"_a = 1e-5,
        "torch.nn.functional.batch_norm: x (N, C), (N, C, L) or (N, C, H, W) normalised per channel. "
        "Training: batch mean and biased variance; running_mean/running_var (when given) are updated "
        "in place: running = (1 - momentum) running + momentum stat, with the unbiased variance. "
        "Eval: the running statistics (required).");
  o.def("layer_norm", &layer_norm, "x"_a, "normalized_shape"_a, "weight"_a = py::none(),
        "bias"_a = py::none(), "eps"_a = 1e-5,
        "torch.nn.functional.layer_norm: each sample normalised over its trailing normalized_shape "
        "dims (biased variance), then weight * x_hat + bias.");
  o.def("upsample_nearest", &upsample_nearest, "x"_a, "scale_factor"_a,
        "x (N, C, H, W) -> (N, C, H*sh, W*sw), each pixel repeated (interpolate mode='nearest').");
  o.def("flatten", &flatten, "x"_a, "start_dim"_a = 1, "end_dim"_a = -1,
        "axes start_dim..end_dim merged into one (torch.flatten).");
}

}  // namespace cgan::bind
