// The training algorithm (Algorithm 1 of the lecture): per iteration, d_steps
// discriminator updates on fresh minibatches of data and noise, then g_steps generator
// updates. One Rng per GAN drives minibatch indices, noise and the objective's own
// draws, so a run with a fixed seed and thread count is bitwise repeatable; a second
// Rng serves sample() so that looking at samples never changes training.
#pragma once
#include <functional>
#include <memory>
#include <stdexcept>

#include "../optim/optimizer.hpp"
#include "objective.hpp"
#include "tips.hpp"

namespace cgan::gan {

// A loss or gradient became NaN/inf (-> FloatingPointError in Python).
struct NonFiniteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct GANConfig {
  std::string loss = "non-saturating";
  ObjectiveOptions options;
  int64_t z_dim = 2;
  std::string prior = "normal";  // "normal": N(0, I); "uniform": U(-1, 1)^z_dim
  int64_t d_steps = 1, g_steps = 1;
  uint64_t seed = 0;
  // PacGAN (Lin et al. 2018): D judges `pack` samples at once, concatenated along the
  // first feature axis ((B, d) -> (B/m, m*d), (B, C, H, W) -> (B/m, m*C, H, W)).
  int64_t pack = 1;
  // Generator weight averaging (Yazici et al. 2019): decay in (0, 1), 0 = off.
  double ema = 0;
  // Historical averaging (Salimans et al. 2016): lambda >= 0, 0 = off.
  double historical_averaging = 0;
  // Per-iteration learning rates of the two optimizers (inactive: left alone).
  LrSchedule g_schedule, d_schedule;
};

// Feature matching (Salimans et al. 2016): D's intermediate activations f(x) for a batch
// of D's inputs; the generator then minimises ||E f(x_real) - E f(G(z))||^2.
using FeatureFn = std::function<Var(const Var&)>;

// What the tips keep beside the networks (copied by Snapshot, saved by checkpoints).
struct TipsState {
  ParamAverage ema, hist_g, hist_d;
};

// What one iteration reports (the values of its last D and G update).
struct StepRecord {
  int64_t step = 0;  // iterations completed, this one included
  double d_loss = 0, g_loss = 0, penalty = 0, divergence = 0, d_grad_norm = 0, g_grad_norm = 0;
};

class GAN {
 public:
  // The objective is cfg.loss built with cfg.options, or `objective` when given (an
  // objective object, e.g. one written in Python; cfg.loss and cfg.options are unused then).
  GAN(nn::ModulePtr G, nn::ModulePtr D, std::shared_ptr<optim::Optimizer> g_opt,
      std::shared_ptr<optim::Optimizer> d_opt, const GANConfig& cfg,
      std::shared_ptr<Objective> objective = nullptr, FeatureFn features = nullptr);

  // Class labels of a conditional GAN's batches (null for an unconditional one): one
  // per row, in [0, num_classes()). Fakes are made for the labels of the real batch.
  using Labels = ops::Indices;

  // One iteration; every critic update uses `real` (fresh noise each time).
  StepRecord step(const Tensor& real, const Labels& labels = nullptr);
  // Up to `steps` iterations on minibatches drawn from `data` (uniform indices, with
  // replacement). Returns early once `seconds` have passed (a step is never cut), so
  // that the caller can update a progress bar; records the iterations whose number is
  // a multiple of log_every or equals `log_at`.
  std::vector<StepRecord> fit(const Tensor& data, int64_t steps, int64_t batch_size, double seconds,
                              int64_t log_every, int64_t log_at, const Labels& labels = nullptr);

  // Using the model, with no graph: G in eval mode (running statistics, no dropout)
  // unless `training`; the modules' modes are restored afterwards.
  // sample: labels null -> drawn uniformly over the classes (conditional GANs only).
  // use_ema: with the averaged generator weights (ValueError when EMA is off).
  Tensor sample(int64_t n, Rng* rng = nullptr, bool training = false, const Labels& labels = nullptr,
                bool use_ema = false);
  Tensor generate(const Tensor& z, bool training = false, const Labels& labels = nullptr,
                  bool use_ema = false);
  // The generator's loss on a given real batch and noise, with backward: G's .grad
  // holds its gradient afterwards (for inspection and tests; no update, no RNG draw
  // unless the objective itself draws).
  double generator_loss(const Tensor& real, const Tensor& z, const Labels& labels = nullptr);
  Tensor discriminate(const Tensor& x, bool training = false, const Labels& labels = nullptr);  // raw D(x)
  Tensor noise(int64_t n, Rng& rng) const;       // z from the prior

  // Throws ValueError unless data is (N, *data_shape()) with finite values.
  void check_data(const Tensor& data, const char* what) const;
  // Per-sample shape of the data: what G makes (and D takes, pack = 1).
  const Shape& data_shape() const { return data_shape_; }
  // Per-sample shape of D's input: data_shape() with its first axis times pack.
  Shape packed_shape() const;
  // ValueError unless a batch of n rows splits into groups of cfg.pack samples.
  void check_packable(int64_t n, const char* what) const;
  int64_t num_classes() const { return classes_; }  // 0: unconditional
  // ValueError unless `labels` suit a batch of n rows (present iff conditional, in range).
  void check_labels(const Labels& labels, int64_t n, const char* what) const;

  const GANConfig& config() const { return cfg_; }
  const Objective& objective() const { return *obj_; }
  int64_t steps_done() const { return steps_; }
  void set_steps_done(int64_t s);  // also sets the scheduled learning rates of step s
  bool feature_matching() const { return bool(features_); }
  TipsState tips_state() const;                // deep copy
  void set_tips_state(const TipsState& s);     // ValueError unless the shapes match; all or nothing
  Rng& train_rng() { return rng_; }
  Rng& sample_rng() { return sample_rng_; }
  const nn::ModulePtr& generator() const { return G_; }
  const nn::ModulePtr& discriminator() const { return D_; }
  const std::shared_ptr<optim::Optimizer>& g_optimizer() const { return g_opt_; }
  const std::shared_ptr<optim::Optimizer>& d_optimizer() const { return d_opt_; }
  std::array<uint64_t, 4> train_rng_state() const { return rng_.state(); }

 private:
  StepRecord iterate(const std::function<std::pair<Tensor, Labels>()>& next_real);
  void d_update(const Tensor& real, const Labels& labels, StepRecord& rec);
  void g_update(const Tensor& real, const Labels& labels, StepRecord& rec);
  Var g_objective(const Tensor& real, const Var& fake);  // what G minimises (D frozen)
  void apply_schedules();
  struct WeightsFor;
  void check_finite(double v, const char* what) const;
  Var pack(const Var& x) const;  // (B, s0, ...) -> (B/m, m*s0, ...): a reshape of whole rows

  nn::ModulePtr G_, D_;
  std::shared_ptr<optim::Optimizer> g_opt_, d_opt_;
  GANConfig cfg_;
  std::shared_ptr<Objective> obj_;
  Rng rng_, sample_rng_;
  int64_t steps_ = 0;
  Shape data_shape_;
  int64_t classes_ = 0;
  FeatureFn features_;
  std::vector<Var> g_params_;  // G's parameters, averaged by EMA
  TipsState tips_;
};

}  // namespace cgan::gan
