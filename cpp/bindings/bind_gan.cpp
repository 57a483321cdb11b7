// cgan._core.GANCore: the C++ training loop under cgan.GAN (python/cgan/gan.py).
#include "convert.hpp"
#include "gan/gan.hpp"
#include "gan/regularizers.hpp"
#include "gan/snapshot.hpp"
#include "tensor/kernels.hpp"
#include "objective_options.hpp"
#include "py_objective.hpp"

namespace cgan::bind {

using namespace pybind11::literals;

namespace {

py::dict record_dict(const gan::StepRecord& r) {
  py::dict d;
  d["step"] = r.step;
  d["d_loss"] = r.d_loss;
  d["g_loss"] = r.g_loss;
  d["penalty"] = r.penalty;
  d["divergence"] = r.divergence;
  d["d_grad_norm"] = r.d_grad_norm;
  d["g_grad_norm"] = r.g_grad_norm;
  return d;
}

// A schedule as python/cgan/optim.py's LRSchedule.to_dict() gives it (None: none).
optim::LrSchedule schedule_of(py::handle h) {
  optim::LrSchedule s;
  if (h.is_none()) return s;
  auto d = py::reinterpret_borrow<py::dict>(h);
  s.kind = d["kind"].cast<std::string>();
  s.base_lr = d["base_lr"].cast<double>();
  s.total_steps = d["total_steps"].cast<int64_t>();
  s.step_size = d["step_size"].cast<int64_t>();
  s.gamma = d["gamma"].cast<double>();
  s.end_factor = d["end_factor"].cast<double>();
  s.eta_min = d["eta_min"].cast<double>();
  return s;
}

// D's features for feature matching: an int is the number of leading layers of a
// Sequential D (checked in Python); a callable is a Python module's features(x).
gan::FeatureFn features_of(const nn::ModulePtr& D, py::object f) {
  if (f.is_none()) return nullptr;
  if (py::isinstance<py::int_>(f)) {
    auto seq = std::dynamic_pointer_cast<nn::Sequential>(D);
    size_t end = f.cast<size_t>();
    if (!seq || end < 1 || end > seq->layers().size())
      throw ValueError("feature_matching: bad layer count " + std::to_string(end));
    return [seq, end](const Var& x) { return seq->forward_until(x, end); };
  }
  auto fn = std::make_shared<py::object>(f);
  return [fn](const Var& x) {
    py::gil_scoped_acquire gil;
    py::object out = (*fn)(x);
    if (!py::isinstance<Var>(out))
      throw TypeError("feature_matching: D.features(x) must return a cgan.Tensor, got " + type_name(out));
    return out.cast<Var>();
  };
}

py::list arrays_of(const gan::ParamAverage& a) {
  py::list out;
  for (const Tensor& t : a.values) out.append(to_numpy(t));
  return out;
}

gan::ParamAverage average_of(py::handle values, py::handle count, const char* what) {
  gan::ParamAverage a;
  for (py::handle v : values) a.values.push_back(to_tensor(v, std::nullopt, what).clone());
  a.count = int64_t(seed_value(count, what));
  return a;
}

}  // namespace

void bind_gan(py::module_& m) {
  // A loss or gradient that turned NaN/inf: FloatingPointError, with step and objective.
  py::register_exception<gan::NonFiniteError>(m, "NonFiniteError", PyExc_FloatingPointError);

  m.def("objective_defaults", [](py::object loss, py::dict options, bool discriminator) {
          std::shared_ptr<gan::Objective> obj;
          if (py::isinstance<py::str>(loss)) obj = gan::make_objective(loss.cast<std::string>(), objective_options(options));
          else if (py::isinstance<gan::Objective>(loss)) obj = loss.cast<std::shared_ptr<gan::Objective>>();
          else obj = std::make_shared<PyObjective>(loss);
          auto d = obj->default_optimizer(discriminator);
          py::dict out;
          out["type"] = d.type;
          out["lr"] = d.lr;
          out["betas"] = py::make_tuple(d.beta1, d.beta2);
          out["name"] = obj->name();
          return out;
        }, "loss"_a, "options"_a, "discriminator"_a,
        "The optimizer an objective's paper uses, and the objective's canonical name.");

  py::class_<gan::GAN, std::shared_ptr<gan::GAN>>(m, "GANCore")
      .def(py::init([](nn::ModulePtr G, nn::ModulePtr D, std::shared_ptr<optim::Optimizer> g_opt,
                       std::shared_ptr<optim::Optimizer> d_opt, std::string loss, int64_t z_dim,
                       std::string prior, int64_t d_steps, int64_t g_steps, uint64_t seed,
                       py::dict options, py::object objective, int64_t pack, double ema,
                       double historical_averaging, py::object g_schedule, py::object d_schedule,
                       py::object feature_matching, int64_t virtual_batch_norm) {
             gan::GANConfig c;
             c.loss = loss;
             c.options = objective_options(options);
             c.z_dim = z_dim;
             c.prior = prior;
             c.d_steps = d_steps;
             c.g_steps = g_steps;
             c.seed = seed;
             c.pack = pack;
             c.ema = ema;
             c.historical_averaging = historical_averaging;
             c.g_schedule = schedule_of(g_schedule);
             c.d_schedule = schedule_of(d_schedule);
             c.vbn_reference = virtual_batch_norm;
             // An objective object: a built-in one (cgan.losses.get) is used as it is;
             // anything else is called back in Python, with the options every objective
             // takes (r1, r2, consistency) applied around it as for a built-in one.
             std::shared_ptr<gan::Objective> obj;
             if (py::isinstance<gan::Objective>(objective)) obj = objective.cast<std::shared_ptr<gan::Objective>>();
             else if (!objective.is_none())
               obj = gan::with_common_options(std::make_shared<PyObjective>(objective), c.options);
             return std::make_shared<gan::GAN>(G, D, g_opt, d_opt, c, obj, features_of(D, feature_matching));
           }),
           "generator"_a, "discriminator"_a, "g_optimizer"_a, "d_optimizer"_a, "loss"_a,
           "z_dim"_a, "prior"_a, "d_steps"_a, "g_steps"_a, "seed"_a, "options"_a, "objective"_a = py::none(),
           "pack"_a = 1, "ema"_a = 0.0, "historical_averaging"_a = 0.0, "g_schedule"_a = py::none(),
           "d_schedule"_a = py::none(), "feature_matching"_a = py::none(),
           "virtual_batch_norm"_a = 0)
      .def("step", [](gan::GAN& g, py::handle real, py::handle labels) {
             Tensor t = to_tensor(real, g.generator()->dtype(), "real_batch");
             auto y = labels_value(labels);
             gan::StepRecord r;
             {
               py::gil_scoped_release nogil;
               r = gan::step_or_roll_back(g, t, y);
             }
             return record_dict(r);
           }, "real_batch"_a, "labels"_a = py::none())
      .def("fit_chunk", [](gan::GAN& g, py::handle data, int64_t steps, int64_t batch,
                           double seconds, int64_t log_every, int64_t log_at, py::handle labels) {
             Tensor t = to_tensor(data, g.generator()->dtype(), "data");
             auto y = labels_value(labels);
             std::vector<gan::StepRecord> recs;
             {
               py::gil_scoped_release nogil;
               recs = gan::fit_or_roll_back(g, t, steps, batch, seconds, log_every, log_at, y);
             }
             py::list out;
             for (auto& r : recs) out.append(record_dict(r));
             return out;
           }, "data"_a, "steps"_a, "batch_size"_a, "seconds"_a, "log_every"_a, "log_at"_a,
           "labels"_a = py::none())
      .def("pretrain_chunk", [](gan::GAN& g, py::handle data, int64_t steps, int64_t batch, double seconds) {
             Tensor t = to_tensor(data, g.discriminator()->dtype(), "data");
             py::gil_scoped_release nogil;
             return gan::pretrain_or_roll_back(g, t, steps, batch, seconds);
           }, "data"_a, "steps"_a, "batch_size"_a, "seconds"_a)
      .def("check_labels", [](gan::GAN& g, py::handle labels, int64_t n) {
             g.check_labels(labels_value(labels), n, "labels");
           })
      .def_property_readonly("num_classes", &gan::GAN::num_classes)
      .def_property_readonly("vbn_reference", [](const gan::GAN& g) -> py::object {
             if (!g.vbn_reference().defined()) return py::none();
             return to_numpy(g.vbn_reference());
           })
      .def("check_data", [](gan::GAN& g, py::handle data, const char* what) {
             g.check_data(to_tensor(data, g.generator()->dtype(), what), what);
           })
      .def("sample", [](gan::GAN& g, int64_t n, py::object seed, bool training, py::handle labels,
                        bool ema) {
             auto y = labels_value(labels);
             Tensor t;
             if (seed.is_none()) {
               py::gil_scoped_release nogil;
               t = g.sample(n, nullptr, training, y, ema);
             } else {
               Rng r(seed_value(seed));
               py::gil_scoped_release nogil;
               t = g.sample(n, &r, training, y, ema);
             }
             return to_numpy(t);
           }, "n"_a, "seed"_a = py::none(), "training"_a = false, "labels"_a = py::none(), "ema"_a = false)
      .def("generate", [](gan::GAN& g, py::handle z, bool training, py::handle labels, bool ema) {
             Tensor t = to_tensor(z, g.generator()->dtype(), "z");
             if (!kernels::all_finite(t)) throw ValueError("generate: z contains NaN or infinite values");
             return to_numpy(g.generate(t, training, labels_value(labels), ema));
           }, "z"_a, "training"_a = false, "labels"_a = py::none(), "ema"_a = false)
      .def("generator_loss", [](gan::GAN& g, py::handle real, py::handle z, py::handle labels) {
             Tensor r = to_tensor(real, g.generator()->dtype(), "real_batch");
             Tensor t = to_tensor(z, g.generator()->dtype(), "z");
             auto y = labels_value(labels);
             py::gil_scoped_release nogil;
             return g.generator_loss(r, t, y);
           }, "real_batch"_a, "z"_a, "labels"_a = py::none(),
           "The generator's loss (objective or feature matching) on this real batch and noise; "
           "G's parameters hold its gradient afterwards. Nothing is updated.")
      .def("get_tips_state", [](gan::GAN& g) {
             gan::TipsState s = g.tips_state();
             py::dict d;
             d["ema"] = arrays_of(s.ema);
             d["ema_count"] = s.ema.count;
             d["hist_g"] = arrays_of(s.hist_g);
             d["hist_g_count"] = s.hist_g.count;
             d["hist_d"] = arrays_of(s.hist_d);
             d["hist_d_count"] = s.hist_d.count;
             return d;
           })
      .def("set_tips_state", [](gan::GAN& g, py::dict d) {
             gan::TipsState s;
             s.ema = average_of(d["ema"], d["ema_count"], "ema");
             s.hist_g = average_of(d["hist_g"], d["hist_g_count"], "hist_g");
             s.hist_d = average_of(d["hist_d"], d["hist_d_count"], "hist_d");
             g.set_tips_state(s);
           }, "state"_a)
      .def("discriminate", [](gan::GAN& g, py::handle x, bool training, py::handle labels) {
             return to_numpy(g.discriminate(to_tensor(x, g.discriminator()->dtype(), "x"), training,
                                            labels_value(labels)));
           }, "x"_a, "training"_a = false, "labels"_a = py::none())
      .def_property_readonly("data_shape", [](const gan::GAN& g) { return py::tuple(py::cast(g.data_shape())); })
      .def_property("steps_done", &gan::GAN::steps_done, [](gan::GAN& g, int64_t s) {
             if (s < 0) throw ValueError("steps_done must be >= 0, got " + std::to_string(s));
             g.set_steps_done(s);
           })
      .def_property_readonly("loss_name", [](const gan::GAN& g) { return g.objective().name(); })
      .def("get_rng_state", [](gan::GAN& g) {
             py::array_t<uint64_t> out(8);
             auto a = g.train_rng().state(), b = g.sample_rng().state();
             std::copy(a.begin(), a.end(), out.mutable_data());
             std::copy(b.begin(), b.end(), out.mutable_data() + 4);
             return out;
           })
      .def("set_rng_state", [](gan::GAN& g, py::handle state) {
             auto s = rng_words(state, 8, "GAN rng state");
             // Both halves are checked (not all zero) before either generator changes.
             Rng train, sample;
             train.set_state({s[0], s[1], s[2], s[3]});
             sample.set_state({s[4], s[5], s[6], s[7]});
             g.train_rng() = train;
             g.sample_rng() = sample;
           }, "state"_a);
}

}  // namespace cgan::bind
