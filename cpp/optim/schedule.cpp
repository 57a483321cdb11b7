#include "schedule.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../tensor/errors.hpp"

namespace cgan::optim {

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

void LrSchedule::validate(const std::string& who) const {
  static const std::vector<std::string> kinds = {"constant", "linear", "step", "cosine"};
  if (!active()) return;
  bool known = false;
  for (auto& k : kinds) known |= k == kind;
  if (!known) {
    std::string best = kinds[0];
    for (auto& k : kinds)
      if (edit_distance(kind, k) < edit_distance(kind, best)) best = k;
    throw ValueError(who + ": unknown schedule '" + kind + "' (did you mean '" + best +
                     "'? one of 'constant', 'linear', 'step', 'cosine')");
  }
  if (!std::isfinite(base_lr) || base_lr < 0)
    throw ValueError(who + ": base_lr must be a finite number >= 0, got " + std::to_string(base_lr));
  if ((kind == "linear" || kind == "cosine") && total_steps < 1)
    throw ValueError(who + ": a '" + kind + "' schedule needs total_steps >= 1, got " + std::to_string(total_steps));
  if (kind == "step" && step_size < 1)
    throw ValueError(who + ": a 'step' schedule needs step_size >= 1, got " + std::to_string(step_size));
  if (kind == "step" && !(std::isfinite(gamma) && gamma > 0 && gamma <= 1))
    throw ValueError(who + ": gamma must be in (0, 1], got " + std::to_string(gamma));
  if (kind == "linear" && !(std::isfinite(end_factor) && end_factor >= 0))
    throw ValueError(who + ": end_factor must be a finite number >= 0, got " + std::to_string(end_factor));
  if (kind == "cosine" && !(std::isfinite(eta_min) && eta_min >= 0 && eta_min <= base_lr))
    throw ValueError(who + ": eta_min must be in [0, base_lr = " + std::to_string(base_lr) + "], got " +
                     std::to_string(eta_min));
}

double LrSchedule::lr(int64_t t) const {
  if (kind == "linear") {
    double f = double(std::min(t, total_steps)) / double(total_steps);
    return base_lr * (1 + (end_factor - 1) * f);
  }
  if (kind == "step") return base_lr * std::pow(gamma, double(t / step_size));
  if (kind == "cosine") {
    if (t >= total_steps) return eta_min;
    return eta_min + (base_lr - eta_min) * (1 + std::cos(M_PI * double(t) / double(total_steps))) / 2;
  }
  return base_lr;
}

}  // namespace cgan::optim
