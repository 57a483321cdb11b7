// The f-divergence table. Formulas: the lecture's table (004, "Using the f-divergence
// you like") = Nowozin et al. 2016, Table 1 (f, f*) and Table 2 (g_f). Each composed
// f*(g_f(v)) is simplified by hand so that no exp/log of a large argument remains.
#include "divergences.hpp"

#include <cmath>
#include <limits>

#include "../ops/ops.hpp"
#include "../tensor/errors.hpp"

namespace cgan::gan {

using namespace cgan::ops;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kLog2 = std::log(2.0);

Var xlogx(const Var& u) { return mul(u, log(u)); }

FDivergence total_variation() {
  FDivergence d;
  d.f = [](const Var& u) { return mul(abs(sub(u, 1.0)), 0.5); };  // ½|u - 1|
  d.conjugate = [](const Var& t) { return t; };                    // t on |t| <= ½
  d.activation = [](const Var& v) { return mul(tanh(v), 0.5); };   // ½ tanh(v)
  d.conjugate_of_activation = [](const Var& v) { return mul(tanh(v), 0.5); };
  d.f_prime_at_1 = 0.0;  // f is not differentiable at 1; 0 is the middle of [-½, ½]
  d.f_at_0 = 0.5;
  d.f_slope_at_inf = 0.5;
  d.dom_lo = -0.5, d.dom_hi = 0.5;
  return d;
}

FDivergence kl() {
  FDivergence d;
  d.f = xlogx;                                                          // u log u
  d.conjugate = [](const Var& t) { return exp(sub(t, 1.0)); };          // e^{t-1}
  d.activation = [](const Var& v) { return v; };                        // v
  d.conjugate_of_activation = [](const Var& v) { return exp_guarded(sub(v, 1.0)); };
  d.f_prime_at_1 = 1.0;  // log u + 1
  d.f_at_0 = 0.0;
  d.f_slope_at_inf = kInf;
  d.dom_lo = -kInf, d.dom_hi = kInf;
  return d;
}

FDivergence reverse_kl() {
  FDivergence d;
  d.f = [](const Var& u) { return neg(log(u)); };                            // -log u
  d.conjugate = [](const Var& t) { return rsub(-1.0, log(neg(t))); };        // -1 - log(-t)
  d.activation = [](const Var& v) { return neg(exp_guarded(neg(v))); };     // -e^{-v}
  d.conjugate_of_activation = [](const Var& v) { return sub(v, 1.0); };     // -1 - log(e^{-v})
  d.f_prime_at_1 = -1.0;  // -1/u
  d.f_at_0 = kInf;
  d.f_slope_at_inf = 0.0;
  d.dom_lo = -kInf, d.dom_hi = 0.0;
  return d;
}

FDivergence pearson() {
  FDivergence d;
  d.f = [](const Var& u) { return square(sub(u, 1.0)); };                      // (u - 1)^2
  d.conjugate = [](const Var& t) { return add(mul(square(t), 0.25), t); };     // t^2/4 + t
  d.activation = [](const Var& v) { return v; };                               // v
  d.conjugate_of_activation = [](const Var& v) { return add(mul(square(v), 0.25), v); };
  // f*(t) = t^2/4 + t is the conjugate of (u-1)^2 extended to all real u (Nowozin's
  // dom f* = R); restricted to u >= 0 the sup would be -1 for t < -2.
  d.f_prime_at_1 = 0.0;  // 2(u - 1)
  d.f_at_0 = 1.0;
  d.f_slope_at_inf = kInf;
  d.dom_lo = -kInf, d.dom_hi = kInf;
  return d;
}

FDivergence neyman() {
  FDivergence d;
  d.f = [](const Var& u) { return div(square(rsub(1.0, u)), u); };              // (1-u)^2/u
  d.conjugate = [](const Var& t) { return rsub(2.0, mul(sqrt(rsub(1.0, t)), 2.0)); };  // 2 - 2 sqrt(1-t)
  d.activation = [](const Var& v) { return rsub(1.0, exp_guarded(neg(v))); };   // 1 - e^{-v}
  // 1 - t = e^{-v}, so sqrt(1 - t) = e^{-v/2}.
  d.conjugate_of_activation = [](const Var& v) {
    return rsub(2.0, mul(exp_guarded(mul(v, -0.5)), 2.0));
  };
  d.f_prime_at_1 = 0.0;  // 1 - 1/u^2
  d.f_at_0 = kInf;
  d.f_slope_at_inf = 1.0;
  d.dom_lo = -kInf, d.dom_hi = 1.0;  // f*(1) = 2 is finite
  return d;
}

FDivergence hellinger() {
  FDivergence d;
  d.f = [](const Var& u) { return square(sub(sqrt(u), 1.0)); };          // (sqrt(u) - 1)^2
  d.conjugate = [](const Var& t) { return div(t, rsub(1.0, t)); };        // t / (1 - t)
  d.activation = [](const Var& v) { return rsub(1.0, exp_guarded(neg(v))); };  // 1 - e^{-v}
  // t / (1 - t) = (1 - e^{-v}) / e^{-v} = e^v - 1.
  d.conjugate_of_activation = [](const Var& v) { return sub(exp_guarded(v), 1.0); };
  d.f_prime_at_1 = 0.0;  // 1 - 1/sqrt(u)
  d.f_at_0 = 1.0;
  d.f_slope_at_inf = 1.0;
  d.dom_lo = -kInf, d.dom_hi = 1.0;
  return d;
}

FDivergence jeffrey() {
  FDivergence d;
  d.f = [](const Var& u) { return mul(sub(u, 1.0), log(u)); };  // (u - 1) log u
  // W(e^{1-t}) + 1/W(e^{1-t}) + t - 2, W the principal Lambert W.
  d.conjugate = [](const Var& t) {
    Var w = lambertw_exp(rsub(1.0, t));
    return add(add(w, rdiv(1.0, w)), sub(t, 2.0));
  };
  d.activation = [](const Var& v) { return v; };  // v
  // W e^W = e^{1-v} gives 1/W = e^{W + v - 1}: no division by a W that underflows to 0.
  d.conjugate_of_activation = [](const Var& v) {
    Var w = lambertw_exp(rsub(1.0, v));
    return add(add(w, exp_guarded(add(w, sub(v, 1.0)))), sub(v, 2.0));
  };
  d.f_prime_at_1 = 0.0;  // log u + 1 - 1/u
  d.f_at_0 = kInf;
  d.f_slope_at_inf = kInf;
  d.dom_lo = -kInf, d.dom_hi = kInf;
  return d;
}

// f gives 2·JSD (the table's D_f column carries a ½ that its f does not).
FDivergence jensen_shannon() {
  FDivergence d;
  d.f = [](const Var& u) {  // -(u + 1) log((1 + u)/2) + u log u
    Var up1 = add(u, 1.0);
    return sub(xlogx(u), mul(up1, log(mul(up1, 0.5))));
  };
  d.conjugate = [](const Var& t) { return neg(log(rsub(2.0, exp(t)))); };  // -log(2 - e^t)
  d.activation = [](const Var& v) { return rsub(kLog2, softplus(neg(v))); };  // log 2 - log(1 + e^{-v})
  // e^t = 2 sigmoid(v), 2 - e^t = 2 sigmoid(-v), -log(2 sigmoid(-v)) = softplus(v) - log 2.
  d.conjugate_of_activation = [](const Var& v) { return sub(softplus(v), kLog2); };
  d.f_prime_at_1 = 0.0;  // log(2u / (1 + u))
  d.f_at_0 = kLog2;
  d.f_slope_at_inf = kLog2;
  d.dom_lo = -kInf, d.dom_hi = kLog2;
  return d;
}

// f(u) = pi u log u - (1 - pi + pi u) log(1 - pi + pi u); pi = ½ gives half of jensen-shannon.
FDivergence jensen_shannon_weighted(double pi) {
  if (!(pi > 0.0 && pi < 1.0))
    throw ValueError("jensen-shannon-weighted: pi must lie in (0, 1), got " + std::to_string(pi));
  FDivergence d;
  d.pi = pi;
  d.f = [pi](const Var& u) {
    Var m = add(mul(u, pi), 1.0 - pi);  // the mixture ratio (pi p + (1-pi) q) / q
    return sub(mul(xlogx(u), pi), xlogx(m));
  };
  // (1 - pi) log((1 - pi) / (1 - pi e^{t/pi}))
  d.conjugate = [pi](const Var& t) {
    Var inner = rsub(1.0, mul(exp(div(t, pi)), pi));
    return mul(rsub(std::log(1.0 - pi), log(inner)), 1.0 - pi);
  };
  // f'(u) = pi log(u / (1 - pi + pi u)) < -pi log pi, so dom f* = (-inf, -pi log pi).
  // Our g_f: pi (log sigmoid(v) - log pi), onto that domain. Then pi e^{t/pi} = sigmoid(v),
  // and at the optimum sigmoid(v) = pi p / (pi p + (1 - pi) q): the posterior of "real"
  // under prior pi, so pi = ½ recovers the GAN discriminator (up to the scale of t).
  d.activation = [pi](const Var& v) { return mul(sub(log_sigmoid(v), std::log(pi)), pi); };
  // 1 - pi e^{t/pi} = sigmoid(-v): f* = (1 - pi)(log(1 - pi) + softplus(v)).
  d.conjugate_of_activation = [pi](const Var& v) {
    return mul(add(softplus(v), std::log(1.0 - pi)), 1.0 - pi);
  };
  d.f_prime_at_1 = 0.0;
  d.f_at_0 = -(1.0 - pi) * std::log(1.0 - pi);
  d.f_slope_at_inf = -pi * std::log(pi);
  d.dom_lo = -kInf, d.dom_hi = -pi * std::log(pi);
  return d;
}

// f gives 2·JSD - log 4, the value of Goodfellow's minimax game at the optimal D.
FDivergence gan() {
  FDivergence d;
  d.f = [](const Var& u) { return sub(xlogx(u), xlogx(add(u, 1.0))); };  // u log u - (u+1) log(u+1)
  d.conjugate = [](const Var& t) { return neg(log(rsub(1.0, exp(t)))); };  // -log(1 - e^t)
  d.activation = [](const Var& v) { return log_sigmoid(v); };              // -log(1 + e^{-v})
  d.conjugate_of_activation = [](const Var& v) { return softplus(v); };     // -log(1 - sigmoid(v))
  d.f_prime_at_1 = -kLog2;  // log(u / (u + 1))
  d.f_at_0 = 0.0;
  d.f_slope_at_inf = 0.0;
  d.dom_lo = -kInf, d.dom_hi = 0.0;
  return d;
}

}  // namespace

Var exp_guarded(const Var& x) {
  constexpr double kMax = 40.0;
  // e^{min(x, 40)} (1 + max(x - 40, 0)): value and slope continuous at 40.
  return mul(exp(clamp(x, -kInf, kMax)), add(relu(sub(x, kMax)), 1.0));
}

std::vector<std::string> divergence_names() {
  return {"total-variation", "kl",          "reverse-kl",     "pearson",
          "neyman",          "hellinger",   "jeffrey",        "jensen-shannon",
          "jensen-shannon-weighted",        "gan"};
}

FDivergence make_divergence(const std::string& name, double pi) {
  FDivergence d;
  if (name == "total-variation") d = total_variation();
  else if (name == "kl") d = kl();
  else if (name == "reverse-kl") d = reverse_kl();
  else if (name == "pearson") d = pearson();
  else if (name == "neyman") d = neyman();
  else if (name == "hellinger") d = hellinger();
  else if (name == "jeffrey") d = jeffrey();
  else if (name == "jensen-shannon") d = jensen_shannon();
  else if (name == "jensen-shannon-weighted") d = jensen_shannon_weighted(pi);
  else if (name == "gan") d = gan();
  else {
    std::string msg = "unknown f-divergence '" + name + "'; accepted:";
    for (auto& n : divergence_names()) msg += " " + n;
    throw ValueError(msg);
  }
  d.name = name;
  return d;
}

}  // namespace cgan::gan
