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

double ParamAverage::ema_decay(double decay, int64_t updates_done) {
  const double n = double(updates_done);
  return std::min(decay, (1 + n) / (10 + n));
}

void ParamAverage::ema_update(const std::vector<Var>& params, double decay) {
  const double d = ema_decay(decay, count - 1);
  each_element(values, params, [d](double a, double th) { return d * a + (1 - d) * th; });
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

}  // namespace cgan::gan
