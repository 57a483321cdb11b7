#include "gan.hpp"

#include <chrono>
#include <cmath>
#include <optional>

#include "../autograd/engine.hpp"
#include "../nn/conditional.hpp"
#include "../ops/ops.hpp"
#include "../tensor/kernels.hpp"

namespace cgan::gan {

namespace {

double grad_norm(const std::vector<Var>& params) {
  double s = 0;
  for (const Var& p : params) {
    Var g = p.grad();
    if (!g.defined()) continue;
    s += kernels::sum_squares(g.data());
  }
  return std::sqrt(s);
}

// Turns off requires_grad of a module's parameters for a scope: the generator's update
// needs gradients through D, not of D's weights, which saves D's weight-gradient GEMMs.
class FrozenParams {
 public:
  explicit FrozenParams(const nn::Module& m) {
    for (Var& p : m.parameters())  // parameters the user froze stay frozen afterwards
      if (p.requires_grad()) {
        p.set_requires_grad(false);
        params_.push_back(p);
      }
  }
  ~FrozenParams() {
    for (Var& p : params_) p.set_requires_grad(true);
  }
 private:
  std::vector<Var> params_;
};

}  // namespace

GAN::GAN(nn::ModulePtr G, nn::ModulePtr D, std::shared_ptr<optim::Optimizer> g_opt,
         std::shared_ptr<optim::Optimizer> d_opt, const GANConfig& cfg,
         std::shared_ptr<Objective> objective, FeatureFn features)
    : G_(std::move(G)), D_(std::move(D)), g_opt_(std::move(g_opt)), d_opt_(std::move(d_opt)),
      cfg_(cfg), obj_(objective ? std::move(objective) : make_objective(cfg.loss, cfg.options)), rng_(cfg.seed),
      sample_rng_(cfg.seed ^ 0x5eed5a3b1e5ULL), features_(std::move(features)) {
  if (!G_ || !D_) throw ValueError("GAN: generator and discriminator are required");
  if (!g_opt_ || !d_opt_) throw ValueError("GAN: both optimizers are required");
  if (cfg.z_dim < 1) throw ValueError("GAN: z_dim must be >= 1, got " + std::to_string(cfg.z_dim));
  if (cfg.d_steps < 1 || cfg.g_steps < 1)
    throw ValueError("GAN: d_steps and g_steps must be >= 1");
  if (cfg.prior != "normal" && cfg.prior != "uniform")
    throw ValueError("GAN: prior must be 'normal' or 'uniform', got '" + cfg.prior + "'");
  auto gin = G_->in_shape();
  if (gin && *gin != Shape{cfg.z_dim})
    throw ValueError("GAN: z_dim = " + std::to_string(cfg.z_dim) + " but the generator expects input " +
                     nn::batch_shape_str(*gin));
  try {
    data_shape_ = G_->out_shape({cfg.z_dim});
  } catch (const ValueError& e) {
    throw ValueError("GAN: the generator cannot take noise " + nn::batch_shape_str({cfg.z_dim}) + ": " + e.what());
  }
  if (cfg.pack < 1) throw ValueError("GAN: pack must be >= 1, got " + std::to_string(cfg.pack));
  if (data_shape_.empty()) throw ValueError("GAN: the generator's samples have no feature axis");
  const Shape d_in = packed_shape();
  Shape dout;
  try {
    dout = D_->out_shape(d_in);
  } catch (const ValueError& e) {
    if (cfg.pack > 1)
      throw ValueError("GAN: with pack=" + std::to_string(cfg.pack) + " the discriminator sees " +
                       std::to_string(cfg.pack) + " samples " + nn::batch_shape_str(data_shape_) +
                       " concatenated, so it must take " + nn::batch_shape_str(d_in) + " (" +
                       std::to_string(cfg.pack) + (data_shape_.size() == 1 ? " * d features" : " * C channels") +
                       "), but it cannot: " + e.what());
    throw ValueError("GAN: the generator makes " + nn::batch_shape_str(data_shape_) +
                     " but the discriminator cannot take it: " + e.what());
  }
  Shape want = obj_->d_out_shape(d_in);
  if (dout != want)
    throw ValueError("GAN: loss '" + obj_->name() + "' needs a discriminator output of shape " +
                     nn::batch_shape_str(want) + ", got " + nn::batch_shape_str(dout) + " for " +
                     (cfg.pack > 1 ? "packed data " : "data ") + nn::batch_shape_str(d_in));
  int64_t gc = nn::num_classes(*G_), dc = nn::num_classes(*D_);
  if (gc != dc)
    throw ValueError("GAN: the generator is conditioned on " + std::to_string(gc) +
                     " classes and the discriminator on " + std::to_string(dc) +
                     " (0 = unconditional); both or neither take labels");
  classes_ = gc;
  // A pack mixes samples of different classes; which label would D be given?
  if (classes_ && cfg.pack > 1)
    throw ValueError("GAN: pack > 1 is not defined for a conditional GAN (a pack would mix the "
                     "labels of its samples); use pack=1 with num_classes");
  if (G_->dtype() != D_->dtype()) throw TypeError("GAN: generator and discriminator dtypes differ");
  if (cfg.ema != 0 && !(cfg.ema > 0 && cfg.ema < 1))
    throw ValueError("GAN: ema must be a decay in (0, 1) (e.g. 0.999) or off, got " + std::to_string(cfg.ema));
  if (!(std::isfinite(cfg.historical_averaging) && cfg.historical_averaging >= 0))
    throw ValueError("GAN: historical_averaging must be a finite number >= 0, got " +
                     std::to_string(cfg.historical_averaging));
  cfg.g_schedule.validate("GAN: lr_schedule (generator)");
  cfg.d_schedule.validate("GAN: lr_schedule (discriminator)");
  if (features_ && classes_)
    throw ValueError("GAN: feature_matching is not supported for a conditional GAN (D's features "
                     "before its label input are not defined)");
  g_params_ = G_->parameters();
  if (cfg.ema > 0) tips_.ema = ParamAverage::of(g_params_);
  if (cfg.historical_averaging > 0) {
    tips_.hist_g = ParamAverage::of(g_opt_->params());
    tips_.hist_d = ParamAverage::of(d_opt_->params());
  }
  apply_schedules();
}

void GAN::apply_schedules() {
  if (cfg_.g_schedule.active()) g_opt_->set_lr(cfg_.g_schedule.lr(steps_));
  if (cfg_.d_schedule.active()) d_opt_->set_lr(cfg_.d_schedule.lr(steps_));
}

void GAN::set_steps_done(int64_t s) {
  steps_ = s;
  apply_schedules();
}

TipsState GAN::tips_state() const { return {tips_.ema.clone(), tips_.hist_g.clone(), tips_.hist_d.clone()}; }

namespace {
void check_same(const ParamAverage& mine, const ParamAverage& given, const std::string& what) {
  if (mine.values.size() != given.values.size())
    throw ValueError(what + ": " + std::to_string(given.values.size()) + " tensors given, this GAN keeps " +
                     std::to_string(mine.values.size()));
  for (size_t i = 0; i < mine.values.size(); ++i) {
    if (given.values[i].shape() != mine.values[i].shape() || given.values[i].dtype() != mine.values[i].dtype())
      throw ValueError(what + ": tensor " + std::to_string(i) + " has shape " + shape_str(given.values[i].shape()) +
                       ", expected " + shape_str(mine.values[i].shape()) + " of the same dtype");
    if (!kernels::all_finite(given.values[i]))
      throw ValueError(what + ": tensor " + std::to_string(i) + " contains NaN or infinite values");
  }
  if (!mine.empty() && given.count < 1) throw ValueError(what + ": count must be >= 1");
}
}  // namespace

void GAN::set_tips_state(const TipsState& s) {
  check_same(tips_.ema, s.ema, "ema state");
  check_same(tips_.hist_g, s.hist_g, "historical average (generator)");
  check_same(tips_.hist_d, s.hist_d, "historical average (discriminator)");
  tips_.ema.assign(s.ema);
  tips_.hist_g.assign(s.hist_g);
  tips_.hist_d.assign(s.hist_d);
}

Shape GAN::packed_shape() const {
  Shape s = data_shape_;
  s[0] *= cfg_.pack;
  return s;
}

void GAN::check_packable(int64_t n, const char* what) const {
  if (n % cfg_.pack != 0)
    throw ValueError(std::string(what) + " is " + std::to_string(n) + ", not a multiple of pack=" +
                     std::to_string(cfg_.pack) + " (the discriminator sees groups of " +
                     std::to_string(cfg_.pack) + " samples)");
}

Var GAN::pack(const Var& x) const {
  if (cfg_.pack == 1) return x;
  Shape s = x.shape();
  s[0] /= cfg_.pack;
  s[1] *= cfg_.pack;
  return ops::reshape(x, s);
}

Tensor GAN::noise(int64_t n, Rng& rng) const {
  if (cfg_.prior == "uniform") return rng.uniform({n, cfg_.z_dim}, G_->dtype(), -1.0, 1.0);
  return rng.normal({n, cfg_.z_dim}, G_->dtype());
}

void GAN::check_data(const Tensor& data, const char* what) const {
  Shape sample = data.ndim() >= 1 ? Shape(data.shape().begin() + 1, data.shape().end()) : Shape{};
  if (data.ndim() < 2 || sample != data_shape_)
    throw ValueError(std::string(what) + " must have shape " + nn::batch_shape_str(data_shape_) +
                     " (what the generator makes and the discriminator takes), got " +
                     shape_str(data.shape()));
  if (data.shape()[0] == 0) throw ValueError(std::string(what) + " is empty");
  if (!kernels::all_finite(data))
    throw ValueError(std::string(what) + " contains NaN or infinite values");
}

void GAN::check_finite(double v, const char* what) const {
  if (!std::isfinite(v))
    throw NonFiniteError("training stopped at step " + std::to_string(steps_ + 1) + ": " + what +
                         " of loss '" + obj_->name() + "' is " + std::to_string(v) +
                         "; the networks keep their last finite parameters");
}

void GAN::check_labels(const Labels& labels, int64_t n, const char* what) const {
  if (!classes_) {
    if (labels) throw ValueError(std::string(what) + " given, but this GAN is unconditional (its networks take no labels)");
    return;
  }
  if (!labels)
    throw ValueError(std::string(what) + " missing: this GAN is conditioned on " + std::to_string(classes_) +
                     " classes");
  if (int64_t(labels->size()) != n)
    throw ValueError(std::string(what) + " has " + std::to_string(labels->size()) + " entries for " +
                     std::to_string(n) + " rows");
  for (int64_t y : *labels)
    if (y < 0 || y >= classes_)
      throw ValueError(std::string(what) + " must be in [0, " + std::to_string(classes_) + "), got " +
                       std::to_string(y));
}

// One discriminator update; rec gets its loss (historical averaging's term included),
// penalty, divergence and gradient norm.
void GAN::d_update(const Tensor& real, const Labels& labels, StepRecord& rec) {
  nn::LabelScope scope(labels);  // fakes are made for, and judged with, the real batch's labels
  Var fake;
  {
    NoGradGuard no_grad;  // D's update treats G's samples as data
    nn::FreezeRunningState frozen;  // and G, not being updated, keeps its running state
    fake = G_->forward(Var(noise(real.shape()[0], rng_)));
  }
  d_opt_->zero_grad();
  DLoss r = obj_->d_loss(*D_, pack(Var(real)), pack(fake), rng_);
  rec.d_loss = r.loss.data().item();
  rec.penalty = r.penalty;
  rec.divergence = r.divergence;
  rec.d_grad_norm = 0;
  check_finite(rec.d_loss, "the discriminator loss");
  // Every D parameter frozen by the user (G trained against a fixed D, the lecture's
  // Helvetica scenario): D stays exactly as it is, weight clipping included.
  if (!r.loss.requires_grad()) return;
  backward({r.loss});
  if (cfg_.historical_averaging > 0)
    rec.d_loss += tips_.hist_d.add_penalty_grad(d_opt_->params(), cfg_.historical_averaging);
  rec.d_grad_norm = grad_norm(d_opt_->params());
  check_finite(rec.d_grad_norm, "the discriminator's gradient norm");
  d_opt_->step();
  obj_->after_d_step(*D_);
  if (cfg_.historical_averaging > 0) tips_.hist_d.mean_update(d_opt_->params());
}

Var GAN::g_objective(const Tensor& real, const Var& fake) {
  if (!features_) return obj_->g_loss(*D_, pack(fake));
  // Feature matching: ||E f(x_real) - E f(G(z))||^2 over D's intermediate features,
  // each flattened per sample; the real features are constants.
  auto flat = [](const Var& v) {
    const int64_t n = v.shape()[0];
    return ops::reshape(v, {n, v.data().numel() / n});
  };
  Var f_real;
  {
    NoGradGuard no_grad;
    f_real = flat(features_(pack(Var(real))));
  }
  Var f_fake = flat(features_(pack(fake)));
  if (f_fake.shape()[1] != f_real.shape()[1])
    throw ValueError("feature matching: D's features of real and fake batches differ in size (" +
                     shape_str(f_real.shape()) + " vs " + shape_str(f_fake.shape()) + ")");
  return ops::sum(ops::square(ops::sub(ops::mean(f_fake, 0), ops::mean(f_real, 0))));
}

// One generator update on fresh noise, as many samples as the real batch has rows.
void GAN::g_update(const Tensor& real, const Labels& labels, StepRecord& rec) {
  nn::LabelScope scope(labels);
  g_opt_->zero_grad();
  {
    FrozenParams frozen(*D_);
    Var fake = G_->forward(Var(noise(real.shape()[0], rng_)));
    nn::FreezeRunningState frozen_state;  // D is not being updated
    Var loss = g_objective(real, fake);
    rec.g_loss = loss.data().item();
    check_finite(rec.g_loss, "the generator loss");
    backward({loss});
  }
  if (cfg_.historical_averaging > 0)
    rec.g_loss += tips_.hist_g.add_penalty_grad(g_opt_->params(), cfg_.historical_averaging);
  rec.g_grad_norm = grad_norm(g_opt_->params());
  check_finite(rec.g_grad_norm, "the generator's gradient norm");
  g_opt_->step();
  if (cfg_.historical_averaging > 0) tips_.hist_g.mean_update(g_opt_->params());
  if (cfg_.ema > 0) tips_.ema.ema_update(g_params_, cfg_.ema);
}

StepRecord GAN::iterate(const std::function<std::pair<Tensor, Labels>()>& next_real) {
  // Both networks train with batch statistics and dropout; each moves its running state
  // only in its own update (d_update/g_update freeze the other one), and dropout draws
  // from the GAN's Rng so that a seeded run repeats.
  G_->set_training(true);
  D_->set_training(true);
  nn::ForwardRngScope dropout_rng(&rng_);
  apply_schedules();
  StepRecord rec;
  Tensor real;
  Labels labels;
  for (int64_t k = 0; k < cfg_.d_steps; ++k) {
    std::tie(real, labels) = next_real();
    d_update(real, labels, rec);
  }
  // The generator's updates see the last real batch (feature matching compares with it).
  for (int64_t k = 0; k < cfg_.g_steps; ++k) g_update(real, labels, rec);
  rec.step = ++steps_;
  apply_schedules();  // as torch's scheduler.step(): the optimizers now hold the next lr
  return rec;
}

double GAN::generator_loss(const Tensor& real, const Tensor& z, const Labels& labels) {
  check_data(real, "real_batch");
  check_labels(labels, real.shape()[0], "labels");
  check_packable(real.shape()[0], "the number of rows of real_batch");
  if (z.ndim() != 2 || z.shape()[1] != cfg_.z_dim || z.shape()[0] != real.shape()[0])
    throw ValueError("generator_loss: z must have shape (" + std::to_string(real.shape()[0]) + ", " +
                     std::to_string(cfg_.z_dim) + "), got " + shape_str(z.shape()));
  const bool g_was = G_->training(), d_was = D_->training();
  G_->set_training(true);
  D_->set_training(true);
  Rng dropout(0);  // training's Rng is not touched
  nn::ForwardRngScope dropout_rng(&dropout);
  nn::LabelScope scope(labels);
  nn::FreezeRunningState frozen_state;
  FrozenParams frozen(*D_);
  g_opt_->zero_grad();
  double v = 0;
  try {
    Var loss = g_objective(real, G_->forward(Var(z)));
    backward({loss});
    v = loss.data().item();
  } catch (...) {
    G_->set_training(g_was);
    D_->set_training(d_was);
    throw;
  }
  G_->set_training(g_was);
  D_->set_training(d_was);
  return v;
}

StepRecord GAN::step(const Tensor& real, const Labels& labels) {
  check_data(real, "real_batch");
  check_labels(labels, real.shape()[0], "labels");
  check_packable(real.shape()[0], "the number of rows of real_batch");
  Tensor r = real.dtype() == G_->dtype() ? real : real.to(G_->dtype());
  return iterate([&] { return std::make_pair(r, labels); });
}

std::vector<StepRecord> GAN::fit(const Tensor& data, int64_t steps, int64_t batch, double seconds,
                                 int64_t log_every, int64_t log_at, const Labels& labels) {
  if (steps < 1) throw ValueError("fit: steps must be >= 1, got " + std::to_string(steps));
  if (batch < 1) throw ValueError("fit: batch_size must be >= 1, got " + std::to_string(batch));
  if (log_every < 1) throw ValueError("fit: log_every must be >= 1");
  check_data(data, "data");
  check_labels(labels, data.shape()[0], "labels");
  check_packable(batch, "fit: batch_size");
  if (batch > data.shape()[0])
    throw ValueError("fit: batch_size " + std::to_string(batch) + " is larger than the data (" +
                     std::to_string(data.shape()[0]) + " rows)");
  Tensor d = data.dtype() == G_->dtype() ? data : data.to(G_->dtype());
  const int64_t n = d.shape()[0];
  std::vector<int64_t> idx(batch);
  auto next_real = [&] {
    for (auto& i : idx) i = rng_.integer(n);
    Labels y;
    if (labels) {
      auto v = std::make_shared<std::vector<int64_t>>(idx.size());
      for (size_t k = 0; k < idx.size(); ++k) (*v)[k] = (*labels)[idx[k]];
      y = v;
    }
    return std::make_pair(kernels::gather_rows(d, idx), y);
  };
  std::vector<StepRecord> log;
  auto start = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    StepRecord rec = iterate(next_real);
    if (rec.step % log_every == 0 || rec.step == log_at) log.push_back(rec);
    std::chrono::duration<double> el = std::chrono::steady_clock::now() - start;
    if (el.count() >= seconds) break;
  }
  return log;
}

namespace {
// Runs f with `m` in the given mode and no graph, then restores m's mode. A
// training-mode look (training=true) still moves no running state.
template <class F>
Tensor look(nn::Module& m, bool training, F f) {
  bool was = m.training();
  m.set_training(training);
  try {
    NoGradGuard no_grad;
    nn::FreezeRunningState frozen;
    Tensor out = f();
    m.set_training(was);
    return out;
  } catch (...) {
    m.set_training(was);
    throw;
  }
}
}  // namespace

// The generator's weights for a scope: its own, or the EMA average when asked for.
struct GAN::WeightsFor {
  std::optional<SwappedParams> swap;
  WeightsFor(GAN& g, bool use_ema, const char* who) {
    if (!use_ema) return;
    if (g.tips_.ema.empty())
      throw ValueError(std::string(who) + ": ema=True, but this GAN keeps no weight average "
                       "(create it with GAN(..., ema=0.999))");
    swap.emplace(g.g_params_, g.tips_.ema);
  }
};

Tensor GAN::sample(int64_t n, Rng* rng, bool training, const Labels& labels, bool use_ema) {
  if (n < 1) throw ValueError("sample: n must be >= 1, got " + std::to_string(n));
  Rng& r = rng ? *rng : sample_rng_;
  Labels y = labels;
  if (classes_ && !y) {  // uniform over the classes, drawn before the noise
    auto v = std::make_shared<std::vector<int64_t>>(n);
    for (auto& k : *v) k = r.integer(classes_);
    y = v;
  }
  check_labels(y, n, "labels");
  Tensor z = noise(n, r);
  nn::LabelScope scope(y);
  WeightsFor weights(*this, use_ema, "sample");
  return look(*G_, training, [&] { return G_->forward(Var(z)).data(); });
}

Tensor GAN::generate(const Tensor& z, bool training, const Labels& labels, bool use_ema) {
  if (z.ndim() != 2 || z.shape()[1] != cfg_.z_dim)
    throw ValueError("generate: z must have shape (n, " + std::to_string(cfg_.z_dim) + "), got " +
                     shape_str(z.shape()));
  Tensor zz = z.dtype() == G_->dtype() ? z : z.to(G_->dtype());
  check_labels(labels, z.shape()[0], "labels");
  nn::LabelScope scope(labels);
  WeightsFor weights(*this, use_ema, "generate");
  return look(*G_, training, [&] { return G_->forward(Var(zz)).data(); });
}

Tensor GAN::discriminate(const Tensor& x, bool training, const Labels& labels) {
  check_data(x, "x");
  check_labels(labels, x.shape()[0], "labels");
  check_packable(x.shape()[0], "the number of rows of x");
  nn::LabelScope scope(labels);
  Tensor xx = x.dtype() == D_->dtype() ? x : x.to(D_->dtype());
  return look(*D_, training, [&] { return D_->forward(pack(Var(xx))).data(); });
}

}  // namespace cgan::gan
