#include "snapshot.hpp"

#include <cmath>
#include <limits>

namespace cgan::gan {

namespace {
void copy_values(const nn::Module& m, std::vector<std::pair<Var, Tensor>>& out) {
  for (auto& [name, v] : m.named_parameters()) out.emplace_back(v, v.data().clone());
  for (auto& [name, v] : m.named_buffers()) out.emplace_back(v, v.data().clone());
}
}  // namespace

Snapshot::Snapshot(const GAN& g)
    : g_state_(g.g_optimizer()->state()), d_state_(g.d_optimizer()->state()),
      g_steps_(g.g_optimizer()->steps()), d_steps_(g.d_optimizer()->steps()),
      rng_(g.train_rng_state()), steps_done_(g.steps_done()), tips_(g.tips_state()) {
  copy_values(*g.generator(), values_);
  copy_values(*g.discriminator(), values_);
}

void Snapshot::restore(GAN& g) const {
  for (auto& [v, t] : values_) v.mutable_data().copy_from(t);
  // load_state converts (hence copies) every buffer: the snapshot itself stays unchanged.
  g.g_optimizer()->load_state(g_state_, g_steps_);
  g.d_optimizer()->load_state(d_state_, d_steps_);
  g.train_rng().set_state(rng_);
  g.set_steps_done(steps_done_);  // the scheduled learning rates follow the step count
  g.set_tips_state(tips_);
}

StepRecord step_or_roll_back(GAN& g, const Tensor& real_batch, const GAN::Labels& labels) {
  Snapshot before(g);
  try {
    return g.step(real_batch, labels);
  } catch (...) {
    before.restore(g);
    throw;
  }
}

// Copying the state once per call (a ~0.25 s chunk of fit) costs nothing per step; on
// failure the completed iterations are replayed from the copy, which a fixed seed and
// thread count make bitwise identical to the first time.
std::vector<StepRecord> fit_or_roll_back(GAN& g, const Tensor& data, int64_t steps, int64_t batch,
                                         double seconds, int64_t log_every, int64_t log_at,
                                         const GAN::Labels& labels) {
  Snapshot start(g);
  const int64_t start_step = g.steps_done();
  try {
    return g.fit(data, steps, batch, seconds, log_every, log_at, labels);
  } catch (...) {
    const int64_t completed = g.steps_done() - start_step;
    start.restore(g);
    if (completed > 0)
      g.fit(data, completed, batch, INFINITY, std::numeric_limits<int64_t>::max(), -1, labels);
    throw;
  }
}

}  // namespace cgan::gan
