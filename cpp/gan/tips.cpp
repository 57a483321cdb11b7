#include "tips.hpp"

#include <algorithm>
#include <cmath>

#include "../tensor/parallel.hpp"

namespace cgan::gan {

namespace {
// f(a, theta, n) on every element of every parameter, a being the average's element
// (float64 in, float64 out). Elements are independent: the pool splits large tensors.
template <class F>
void each_element(std::vector<Tensor>& avg, const std::vector<Var>& params, F f) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i].data();
    Tensor& a = avg[i];
    dispatch(p.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* th = p.data<T>();
      T* av = a.data<T>();
      parallel_range(p.numel(), [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) av[k] = T(f(double(av[k]), double(th[k])));
      }, p.numel());
    });
  }
}
}  // namespace

ParamAverage ParamAverage::of(const std::vector<Var>& params) {
  ParamAverage a;
  for (const Var& p : params) a.values.push_back(p.data().clone());
  a.count = 1;
  return a;
}

ParamAverage ParamAverage::clone() const {
  ParamAverage a;
  for (const Tensor& t : values) a.values.push_back(t.clone());
  a.count = count;
  return a;
}

void ParamAverage::assign(const ParamAverage& src) {
  for (size_t i = 0; i < values.size(); ++i) values[i].copy_from(src.values.at(i));
  count = src.count;
}

void ParamAverage::ema_update(const std::vector<Var>& params, double decay) {
  each_element(values, params, [decay](double a, double th) { return decay * a + (1 - decay) * th; });
  ++count;
}

void ParamAverage::mean_update(const std::vector<Var>& params) {
  const double n = double(++count);
  each_element(values, params, [n](double a, double th) { return a + (th - a) / n; });
}

double ParamAverage::add_penalty_grad(const std::vector<Var>& params, double lambda) const {
  double total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    Var g = params[i].grad();
    if (!g.defined()) continue;
    const Tensor& p = params[i].data();
    Tensor out = g.data().dtype() == p.dtype() ? g.data().clone() : g.data().to(p.dtype());
    dispatch(p.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* th = p.data<T>();
      const T* m = values[i].data<T>();
      T* o = out.data<T>();
      for (int64_t k = 0; k < p.numel(); ++k) {
        double diff = double(th[k]) - double(m[k]);
        total += diff * diff;
        o[k] = T(double(o[k]) + 2 * lambda * diff);
      }
    });
    Var(params[i]).set_grad(Var(out));
  }
  return lambda * total;
}

SwappedParams::SwappedParams(const std::vector<Var>& params, const ParamAverage& avg) : params_(params) {
  for (size_t i = 0; i < params_.size(); ++i) {
    saved_.push_back(params_[i].data().clone());
    params_[i].mutable_data().copy_from(avg.values.at(i));
  }
}

SwappedParams::~SwappedParams() {
  for (size_t i = 0; i < params_.size(); ++i) params_[i].mutable_data().copy_from(saved_[i]);
}

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

}  // namespace cgan::gan
