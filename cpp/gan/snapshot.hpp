// A copy of everything a training iteration changes (parameters, module buffers such as
// spectral norm's u, both optimizers' state, the training RNG, the step counter), so
// that an iteration that fails halfway (a loss that turned NaN, an allocation that
// failed) can be undone: the GAN goes back to the state the copy was taken in.
#pragma once
#include <array>
#include <utility>
#include <vector>

#include "gan.hpp"

namespace cgan::gan {

class Snapshot {
 public:
  explicit Snapshot(const GAN& g);
  // Puts `g` (the GAN the snapshot was taken of) back into the recorded state. The
  // tensors keep their identity: handles held by Python stay valid.
  void restore(GAN& g) const;

 private:
  std::vector<std::pair<Var, Tensor>> values_;  // parameter or buffer -> its values
  optim::State g_state_, d_state_;
  int64_t g_steps_ = 0, d_steps_ = 0;
  std::array<uint64_t, 4> rng_{};
  int64_t steps_done_ = 0;
  TipsState tips_;  // EMA and historical averages
};

// g.step / g.fit, except that an iteration that throws (a loss or gradient that turned
// NaN, a failed allocation) is undone: the GAN ends exactly as after the last iteration
// that completed, and the exception propagates.
StepRecord step_or_roll_back(GAN& g, const Tensor& real_batch, const GAN::Labels& labels = nullptr);
std::vector<StepRecord> fit_or_roll_back(GAN& g, const Tensor& data, int64_t steps, int64_t batch,
                                         double seconds, int64_t log_every, int64_t log_at,
                                         const GAN::Labels& labels = nullptr);

}  // namespace cgan::gan
