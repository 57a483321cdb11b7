#include "snapshot.hpp"

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
      rng_(g.train_rng_state()), steps_done_(g.steps_done()) {
  copy_values(*g.generator(), values_);
  copy_values(*g.discriminator(), values_);
}

void Snapshot::restore(GAN& g) const {
  for (auto& [v, t] : values_) v.mutable_data().copy_from(t);
  // load_state converts (hence copies) every buffer: the snapshot itself stays unchanged.
  g.g_optimizer()->load_state(g_state_, g_steps_);
  g.d_optimizer()->load_state(d_state_, d_steps_);
  g.train_rng().set_state(rng_);
  g.set_steps_done(steps_done_);
}

}  // namespace cgan::gan
