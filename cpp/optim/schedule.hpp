// Learning-rate schedules: the lr of iteration t as a function of t alone, so that a
// run resumed from a checkpoint at step t continues exactly (nothing else to save).
#pragma once
#include <cstdint>
#include <string>

namespace cgan::optim {

// The learning rate of iteration t (0-based, = iterations completed), as the
// corresponding torch.optim.lr_scheduler stepped once per iteration would set it:
//   constant  base
//   linear    base * (1 + (end_factor - 1) * min(t, total) / total)      LinearLR(1, end_factor, total)
//   step      base * gamma^floor(t / step_size)                          StepLR(step_size, gamma)
//   cosine    eta_min + (base - eta_min) * (1 + cos(pi t / total)) / 2,  CosineAnnealingLR(total, eta_min)
//             eta_min once t >= total (torch would start a new half-period)
struct LrSchedule {
  std::string kind;  // "" = none: the optimizer's lr is left alone
  double base_lr = 0;
  int64_t total_steps = 0, step_size = 0;
  double gamma = 0.1, end_factor = 0, eta_min = 0;

  bool active() const { return !kind.empty(); }
  // ValueError naming the field for an unknown kind (closest name) or a bad value.
  void validate(const std::string& who) const;
  double lr(int64_t t) const;
};

}  // namespace cgan::optim
