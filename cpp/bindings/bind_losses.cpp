// cgan._core.losses (GAN objectives) and cgan._core.divergences (the f-divergence table).
// The Python package (cgan/losses.py, cgan/divergences.py) adds docstrings and NumPy glue.
#include <limits>

#include "convert.hpp"
#include "gan/divergences.hpp"
#include "gan/objectives.hpp"
#include "gan/regularizers.hpp"
#include "objective_options.hpp"
#include "py_objective.hpp"

namespace cgan::bind {

using namespace pybind11::literals;
using gan::FDivergence;
using gan::Objective;
using gan::RawOutputObjective;

namespace {

// Samples for D: a Tensor passes through (keeps its graph); an array becomes a constant
// of D's dtype.
Var sample_batch(py::handle x, const nn::Module& D, const char* what) {
  if (py::isinstance<Var>(x)) return x.cast<Var>();
  return Var(to_tensor(x, D.dtype(), what));
}

Var raw_output(py::handle v, const char* what) {
  Var out = to_var(v, std::nullopt, what);
  if (out.numel() == 0) throw ValueError(std::string(what) + " is empty");
  return out;
}

const RawOutputObjective& raw(const Objective& o) {
  auto* r = dynamic_cast<const RawOutputObjective*>(&o);
  if (!r) throw ValueError(o.name() + " is not a function of D's raw outputs alone; use d_loss/g_loss");
  return *r;
}

// A float64 NumPy function of x, evaluated without a graph.
py::array eval64(const gan::VarFn& fn, py::handle x, const char* what) {
  Tensor t = to_tensor(x, DType::f64, what);
  NoGradGuard no_grad;
  return to_numpy(fn(Var(t)).data());
}

// sup_u (u t - f(u)) is +inf off dom f*; the formulas would give NaN or a wrong branch.
py::array conjugate(const FDivergence& d, py::handle x) {
  Tensor t = to_tensor(x, DType::f64, "t");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = d.conjugate(Var(t)).data().clone();
  }
  const double* tin = t.data<double>();
  double* out = y.data<double>();
  for (int64_t i = 0; i < y.numel(); ++i)
    if (tin[i] < d.dom_lo || tin[i] > d.dom_hi) out[i] = std::numeric_limits<double>::infinity();
  return to_numpy(y);
}

}  // namespace

void bind_losses(py::module_& m) {
  py::module_ l = m.def_submodule("losses", "GAN objectives (see cgan.losses).");
  py::class_<Objective, std::shared_ptr<Objective>>(l, "Objective")
      .def_property_readonly("name", &Objective::name)
      .def_property_readonly("has_raw_outputs",
                             [](const Objective& o) { return dynamic_cast<const RawOutputObjective*>(&o) != nullptr; })
      .def("d_loss", [](const Objective& o, nn::Module& D, py::handle real, py::handle fake, uint64_t seed) {
             Rng rng(seed);
             gan::DLoss r = o.d_loss(D, sample_batch(real, D, "real"), sample_batch(fake, D, "fake"), rng);
             return py::make_tuple(r.loss, r.penalty, r.divergence);
           }, "D"_a, "real"_a, "fake"_a, "seed"_a = 0,
           "(loss, penalty, divergence): D's loss Tensor, the unweighted penalty and D's estimate (NaN if none).")
      .def("g_loss", [](const Objective& o, nn::Module& D, py::handle fake) {
             return o.g_loss(D, sample_batch(fake, D, "fake"));
           }, "D"_a, "fake"_a)
      .def("d_loss_raw", [](const Objective& o, py::handle vr, py::handle vf) {
             return raw(o).d_loss_raw(raw_output(vr, "v_real"), raw_output(vf, "v_fake"));
           }, "v_real"_a, "v_fake"_a)
      .def("g_loss_raw", [](const Objective& o, py::handle vf) {
             return raw(o).g_loss_raw(raw_output(vf, "v_fake"));
           }, "v_fake"_a)
      .def("divergence_raw", [](const Objective& o, py::handle vr, py::handle vf) {
             NoGradGuard no_grad;
             return raw(o).divergence_raw(raw_output(vr, "v_real"), raw_output(vf, "v_fake"));
           }, "v_real"_a, "v_fake"_a)
      .def("after_d_step", [](const Objective& o, nn::Module& D) {
             NoGradGuard no_grad;
             o.after_d_step(D);
           }, "D"_a)
      .def("d_out_features", [](const Objective& o, int64_t dim) { return o.d_out_shape({dim})[0]; },
           "data_dim"_a, "Width of D's output for flat data of width data_dim.")
      .def("d_out_shape", [](const Objective& o, std::vector<int64_t> s) {
             return py::tuple(py::cast(o.d_out_shape(Shape(s.begin(), s.end()))));
           }, "data_shape"_a, "Per-sample shape of D's output for data of per-sample shape data_shape.")
      .def("default_optimizer", [](const Objective& o, bool discriminator) {
             gan::OptimizerDefaults d = o.default_optimizer(discriminator);
             return py::dict("type"_a = d.type, "lr"_a = d.lr, "betas"_a = py::make_tuple(d.beta1, d.beta2));
           }, "discriminator"_a = true);
  l.def("make", [](const std::string& name, py::kwargs kw) {
         return std::shared_ptr<Objective>(gan::make_objective(name, objective_options(kw)));
       }, "name"_a);
  l.def("regularize", [](py::object objective, py::kwargs kw) {
         return gan::with_common_options(std::make_shared<PyObjective>(objective), objective_options(kw));
       }, "objective"_a,
       "An objective written in Python with the options every objective takes (r1, r2, consistency, ct_margin).");
  l.def("available", &gan::available_objectives);

  py::module_ dv = m.def_submodule("divergences", "The f-divergence table (see cgan.divergences).");
  py::class_<FDivergence>(dv, "FDivergence")
      .def_readonly("name", &FDivergence::name)
      .def_readonly("pi", &FDivergence::pi)
      .def_readonly("f_prime_at_1", &FDivergence::f_prime_at_1)
      .def_readonly("f_at_0", &FDivergence::f_at_0)
      .def_readonly("f_slope_at_inf", &FDivergence::f_slope_at_inf)
      .def_property_readonly("domain", [](const FDivergence& d) { return py::make_tuple(d.dom_lo, d.dom_hi); })
      .def("f", [](const FDivergence& d, py::handle u) { return eval64(d.f, u, "u"); }, "u"_a)
      .def("conjugate", &conjugate, "t"_a)
      .def("activation", [](const FDivergence& d, py::handle v) { return eval64(d.activation, v, "v"); }, "v"_a)
      .def("conjugate_of_activation", [](const FDivergence& d, py::handle v) {
             return eval64(d.conjugate_of_activation, v, "v");
           }, "v"_a)
      // Var versions, differentiable (graph recorded when the input requires grad).
      .def("f_tensor", [](const FDivergence& d, const Var& u) { return d.f(u); }, "u"_a)
      .def("conjugate_tensor", [](const FDivergence& d, const Var& t) { return d.conjugate(t); }, "t"_a)
      .def("activation_tensor", [](const FDivergence& d, const Var& v) { return d.activation(v); }, "v"_a)
      .def("conjugate_of_activation_tensor",
           [](const FDivergence& d, const Var& v) { return d.conjugate_of_activation(v); }, "v"_a);
  dv.def("names", &gan::divergence_names);
  dv.def("make", &gan::make_divergence, "name"_a, "pi"_a = 0.5);
}

}  // namespace cgan::bind
