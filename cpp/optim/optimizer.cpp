#include "optimizer.hpp"

#include <cmath>

#include "../tensor/parallel.hpp"

namespace cgan::optim {

namespace {
bool is_second_moment(const std::string& name) { return name == "exp_avg_sq" || name == "square_avg"; }

bool all_nonnegative(const Tensor& t) {
  return dispatch(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!(a[i] >= 0)) return false;
    return true;
  });
}

void check_hyper(const char* what, double v, double lo, bool lo_open = false) {
  if (!std::isfinite(v) || v < lo || (lo_open && v == lo))
    throw ValueError(std::string(what) + " must be a finite number " + (lo_open ? "> " : ">= ") +
                     std::to_string(lo) + ", got " + std::to_string(v));
}
void check_beta(const char* what, double v) {
  if (!(v >= 0.0 && v < 1.0))
    throw ValueError(std::string(what) + " must be in [0, 1), got " + std::to_string(v));
}
}  // namespace

// ---- Optimizer ---------------------------------------------------------------------------------

Optimizer::Optimizer(std::vector<Var> params, double lr) : params_(std::move(params)), lr_(lr) {
  if (params_.empty()) throw ValueError("optimizer got an empty parameter list");
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined()) throw ValueError("optimizer: parameter " + std::to_string(i) + " is None");
    if (!params_[i].is_leaf())
      throw ValueError("optimizer: parameter " + std::to_string(i) +
                       " is not a leaf tensor (it was computed by an op)");
    // A parameter listed twice would be updated twice per step.
    for (size_t j = 0; j < i; ++j)
      if (params_[j].impl() == params_[i].impl())
        throw ValueError("optimizer: parameter " + std::to_string(i) + " is the same tensor as parameter " +
                         std::to_string(j) + " (each parameter may appear only once)");
  }
  check_hyper("lr", lr, 0.0);
  bufs_.resize(params_.size());
  pstep_.assign(params_.size(), 0);
}

void Optimizer::set_lr(double lr) {
  check_hyper("lr", lr, 0.0);
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (Var& p : params_) p.set_grad(Var());
}

void Optimizer::step() {
  std::vector<Tensor> grads(params_.size());
  int64_t total = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    Var g = params_[i].grad();
    if (!g.defined()) continue;
    const Tensor& p = params_[i].data();
    grads[i] = g.dtype() == p.dtype() ? g.data() : g.data().to(p.dtype());
    for (const auto& name : buffer_names()) {
      Tensor& b = bufs_[i][name];
      if (!b.defined() || b.shape() != p.shape()) b = Tensor::zeros(p.shape(), p.dtype());
      else if (b.dtype() != p.dtype()) b = b.to(p.dtype());  // module.astype(): keep the moments
    }
    total += p.numel();
    ++pstep_[i];
  }
  ++t_;  // bias corrections read the step number of the update being made
  // All parameters' elements as one list of fixed 4096-element pieces (parameters are
  // independent), run in parallel when there is enough of them.
  constexpr int64_t kChunk = 4096;
  std::vector<std::pair<size_t, int64_t>> pieces;  // (parameter, first element)
  for (size_t i = 0; i < params_.size(); ++i)
    if (grads[i].defined())
      for (int64_t b = 0; b < params_[i].numel(); b += kChunk) pieces.emplace_back(i, b);
  parallel_range(static_cast<int64_t>(pieces.size()), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      auto [i, b] = pieces[p];
      const Tensor& t = params_[i].data();
      update(i, t, grads[i], b, std::min(t.numel(), b + kChunk));
    }
  }, total);
}

State Optimizer::state() const {
  State s;
  for (size_t i = 0; i < bufs_.size(); ++i)
    for (const auto& [name, t] : bufs_[i])
      if (t.defined()) s[std::to_string(i) + "." + name] = t.clone();
  for (size_t i = 0; i < pstep_.size(); ++i)
    if (pstep_[i] > 0) s[std::to_string(i) + ".step"] = Tensor::scalar(double(pstep_[i]), DType::f64);
  return s;
}

void Optimizer::load_state(const State& s, int64_t steps) {
  if (steps < 0) throw ValueError("optimizer state: step count must be >= 0");
  std::vector<std::map<std::string, Tensor>> fresh(params_.size());
  std::vector<int64_t> fresh_steps(params_.size(), -1);
  auto names = buffer_names();
  for (const auto& [key, t] : s) {
    auto dot = key.find('.');
    size_t i = 0;
    std::string name;
    try {
      i = std::stoul(key.substr(0, dot));
      name = key.substr(dot + 1);
    } catch (...) {
      throw ValueError("optimizer state: bad key '" + key + "'");
    }
    if (dot != std::string::npos && i < params_.size() && name == "step") {
      double v = t.numel() == 1 ? t.item() : -1.0;
      if (!(v >= 0 && v <= double(steps) && v == std::floor(v)))
        throw ValueError("optimizer state: '" + key + "' must be an integer in [0, steps]");
      fresh_steps[i] = int64_t(v);
      continue;
    }
    if (dot == std::string::npos || i >= params_.size() ||
        std::find(names.begin(), names.end(), name) == names.end())
      throw ValueError("optimizer state: unexpected key '" + key + "' for " + type_name() +
                       " over " + std::to_string(params_.size()) + " parameters");
    const Tensor& p = params_[i].data();
    if (t.shape() != p.shape())
      throw ValueError("optimizer state: '" + key + "' has shape " + shape_str(t.shape()) +
                       ", parameter " + std::to_string(i) + " has " + shape_str(p.shape()));
    // A running mean of squares below 0 has its square root NaN at the next step.
    if (is_second_moment(name) && !all_nonnegative(t))
      throw ValueError("optimizer state: '" + key + "' is a running mean of squared gradients "
                       "and must be >= 0 everywhere");
    fresh[i][name] = t.to(p.dtype());
  }
  // Without "<i>.step" entries (older state dicts): a parameter with buffers has taken
  // every step, one without has taken none.
  for (size_t i = 0; i < params_.size(); ++i)
    if (fresh_steps[i] < 0) fresh_steps[i] = fresh[i].empty() ? 0 : steps;
  bufs_ = std::move(fresh);
  pstep_ = std::move(fresh_steps);
  t_ = steps;
}

// ---- SGD ---------------------------------------------------------------------------------------

SGD::SGD(std::vector<Var> params, double lr, double momentum_, double dampening_, bool nesterov_,
         double weight_decay_)
    : Optimizer(std::move(params), lr), momentum(momentum_), dampening(dampening_),
      weight_decay(weight_decay_), nesterov(nesterov_) {
  check_hyper("momentum", momentum, 0.0);
  check_hyper("dampening", dampening, 0.0);
  check_hyper("weight_decay", weight_decay, 0.0);
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw ValueError("Nesterov momentum needs momentum > 0 and dampening = 0");
}

std::vector<std::string> SGD::buffer_names() const {
  if (momentum > 0) return {"momentum_buffer"};
  return {};
}

void SGD::update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) {
  dispatch(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* w = p.data<T>();
    const T* gr = g.data<T>();
    const T lr = T(lr_), wd = T(weight_decay), mu = T(momentum), damp = T(dampening);
    T* buf = momentum > 0 ? buffer(i, "momentum_buffer").data<T>() : nullptr;
    const bool first = pstep_[i] == 1;  // torch: this parameter's first update
    for (int64_t k = b; k < e; ++k) {
      T d = gr[k];
      if (weight_decay != 0) d += wd * w[k];
      if (buf) {
        // torch: the first step's buffer is the gradient itself (no dampening).
        buf[k] = first ? d : mu * buf[k] + (T(1) - damp) * d;
        d = nesterov ? d + mu * buf[k] : buf[k];
      }
      w[k] -= lr * d;
    }
  });
}

// ---- Adam --------------------------------------------------------------------------------------

Adam::Adam(std::vector<Var> params, double lr, double b1, double b2, double eps_, double wd)
    : Optimizer(std::move(params), lr), beta1(b1), beta2(b2), eps(eps_), weight_decay(wd) {
  check_beta("beta1", beta1);
  check_beta("beta2", beta2);
  check_hyper("eps", eps, 0.0);
  check_hyper("weight_decay", weight_decay, 0.0);
}

void Adam::update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) {
  dispatch(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* w = p.data<T>();
    const T* gr = g.data<T>();
    T* m = buffer(i, "exp_avg").data<T>();
    T* v = buffer(i, "exp_avg_sq").data<T>();
    const T b1 = T(beta1), b2 = T(beta2), wd = T(weight_decay), ep = T(eps);
    // torch's arithmetic: step = lr / (1 - b1^t), denom = sqrt(v) / sqrt(1 - b2^t) + eps.
    const double t = double(pstep_[i]);  // this parameter's own step count, as torch
    const double bc1 = 1.0 - std::pow(beta1, t), bc2 = 1.0 - std::pow(beta2, t);
    const T step = T(lr_ / bc1), bc2_sqrt = T(std::sqrt(bc2));
    for (int64_t k = b; k < e; ++k) {
      T d = gr[k];
      if (weight_decay != 0) d += wd * w[k];
      m[k] = b1 * m[k] + (T(1) - b1) * d;
      v[k] = b2 * v[k] + (T(1) - b2) * d * d;
      w[k] -= step * m[k] / (std::sqrt(v[k]) / bc2_sqrt + ep);
    }
  });
}

// ---- RMSprop -----------------------------------------------------------------------------------

RMSprop::RMSprop(std::vector<Var> params, double lr, double alpha_, double eps_, double momentum_,
                 bool centered_, double wd)
    : Optimizer(std::move(params), lr), alpha(alpha_), eps(eps_), momentum(momentum_),
      weight_decay(wd), centered(centered_) {
  check_beta("alpha", alpha);
  check_hyper("eps", eps, 0.0);
  check_hyper("momentum", momentum, 0.0);
  check_hyper("weight_decay", weight_decay, 0.0);
}

std::vector<std::string> RMSprop::buffer_names() const {
  std::vector<std::string> n{"square_avg"};
  if (momentum > 0) n.push_back("momentum_buffer");
  if (centered) n.push_back("grad_avg");
  return n;
}

void RMSprop::update(size_t i, const Tensor& p, const Tensor& g, int64_t b, int64_t e) {
  dispatch(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* w = p.data<T>();
    const T* gr = g.data<T>();
    T* sq = buffer(i, "square_avg").data<T>();
    T* buf = momentum > 0 ? buffer(i, "momentum_buffer").data<T>() : nullptr;
    T* ga = centered ? buffer(i, "grad_avg").data<T>() : nullptr;
    const T a = T(alpha), wd = T(weight_decay), ep = T(eps), mu = T(momentum), lr = T(lr_);
    for (int64_t k = b; k < e; ++k) {
      T d = gr[k];
      if (weight_decay != 0) d += wd * w[k];
      sq[k] = a * sq[k] + (T(1) - a) * d * d;
      T avg;
      if (ga) {
        ga[k] = a * ga[k] + (T(1) - a) * d;
        avg = std::sqrt(sq[k] - ga[k] * ga[k]) + ep;
      } else {
        avg = std::sqrt(sq[k]) + ep;
      }
      if (buf) {
        buf[k] = mu * buf[k] + d / avg;
        w[k] -= lr * buf[k];
      } else {
        w[k] -= lr * d / avg;
      }
    }
  });
}

// ---- constraints -------------------------------------------------------------------------------

void clip_(const std::vector<Var>& params, double c) {
  if (!(c > 0) || !std::isfinite(c))
    throw ValueError("clip_: c must be a finite number > 0, got " + std::to_string(c));
  for (const Var& p : params) {
    dispatch(p.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data().data<T>();
      const T lo = T(-c), hi = T(c);
      for (int64_t k = 0; k < p.numel(); ++k) w[k] = std::min(std::max(w[k], lo), hi);
    });
  }
}

}  // namespace cgan::optim
