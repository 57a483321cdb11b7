#include "py_objective.hpp"

#include <cmath>
#include <limits>

namespace cgan::bind {

namespace {

py::object module_object(nn::Module& m) { return py::cast(&m, py::return_value_policy::reference); }

Var scalar_loss(py::handle r, const std::string& who) {
  if (!py::isinstance<Var>(r))
    throw TypeError(who + " must return a 0-d cgan.Tensor, got " +
                    py::str(py::type::of(r).attr("__name__")).cast<std::string>());
  Var v = r.cast<Var>();
  if (v.numel() != 1 || !v.shape().empty())
    throw ValueError(who + " must return a 0-d cgan.Tensor (use .mean()), got shape " + shape_str(v.shape()));
  return v;
}

double optional_float(const py::dict& d, const char* key) {
  if (!d.contains(key) || d[key].is_none()) return std::numeric_limits<double>::quiet_NaN();
  return number_value(d[key], key);
}

}  // namespace

PyObjective::PyObjective(py::object obj) : obj_(std::move(obj)) {
  for (const char* m : {"d_loss", "g_loss"})
    if (!py::hasattr(obj_, m) || !PyCallable_Check(obj_.attr(m).ptr()))
      throw TypeError("an objective object needs callable d_loss(D, real, fake, rng) and g_loss(D, fake); " +
                      py::str(py::type::of(obj_).attr("__name__")).cast<std::string>() + " has no " + m);
}

PyObjective::~PyObjective() {
  py::gil_scoped_acquire gil;
  obj_ = py::object();
}

std::string PyObjective::name() const {
  py::gil_scoped_acquire gil;
  if (py::hasattr(obj_, "name") && py::isinstance<py::str>(obj_.attr("name")))
    return obj_.attr("name").cast<std::string>();
  return py::str(py::type::of(obj_).attr("__name__")).cast<std::string>();
}

gan::DLoss PyObjective::d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const {
  py::gil_scoped_acquire gil;
  // The Rng is the GAN's own, lent for this call only: penalties' draws stay seeded.
  py::object r = obj_.attr("d_loss")(module_object(D), real, fake, py::cast(&rng, py::return_value_policy::reference));
  gan::DLoss out;
  if (py::isinstance<py::dict>(r)) {
    py::dict d = py::reinterpret_borrow<py::dict>(r);
    if (!d.contains("loss")) throw ValueError("d_loss returned a dict without 'loss'");
    out.loss = scalar_loss(d["loss"], "d_loss");
    out.penalty = optional_float(d, "penalty");
    out.divergence = optional_float(d, "divergence");
  } else {
    out.loss = scalar_loss(r, "d_loss");
  }
  return out;
}

Var PyObjective::g_loss(nn::Module& D, const Var& fake) const {
  py::gil_scoped_acquire gil;
  return scalar_loss(obj_.attr("g_loss")(module_object(D), fake), "g_loss");
}

void PyObjective::after_d_step(nn::Module& D) const {
  py::gil_scoped_acquire gil;
  if (!py::hasattr(obj_, "after_d_step")) return;
  NoGradGuard no_grad;
  obj_.attr("after_d_step")(module_object(D));
}

Shape PyObjective::d_out_shape(const Shape& data) const {
  py::gil_scoped_acquire gil;
  if (!py::hasattr(obj_, "d_out_shape")) return {1};
  auto s = obj_.attr("d_out_shape")(py::tuple(py::cast(data))).cast<std::vector<int64_t>>();
  return Shape(s.begin(), s.end());
}

gan::OptimizerDefaults PyObjective::default_optimizer(bool discriminator) const {
  py::gil_scoped_acquire gil;
  gan::OptimizerDefaults o;
  if (!py::hasattr(obj_, "default_optimizer")) return o;
  py::dict d = obj_.attr("default_optimizer")(discriminator);
  o.type = d["type"].cast<std::string>();
  o.lr = number_value(d["lr"], "lr");
  auto betas = d.contains("betas") ? d["betas"].cast<std::pair<double, double>>() : std::pair<double, double>(0.5, 0.999);
  o.beta1 = betas.first;
  o.beta2 = betas.second;
  return o;
}

Var PyObjective::score(nn::Module& D, const Var& x) const {
  py::gil_scoped_acquire gil;
  if (!py::hasattr(obj_, "score")) return D.forward(x);
  py::object r = obj_.attr("score")(module_object(D), x);
  if (!py::isinstance<Var>(r))
    throw TypeError("score must return a cgan.Tensor of shape (N, 1), got " + type_name(r));
  Var s = r.cast<Var>();
  if (s.shape().empty() || s.shape()[0] != x.shape()[0])
    throw ValueError("score must return one value per sample, shape (N, 1), got " + shape_str(s.shape()) +
                     " for a batch of " + std::to_string(x.shape()[0]));
  return s;
}

}  // namespace cgan::bind
