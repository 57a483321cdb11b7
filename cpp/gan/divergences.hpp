// The f-divergences of the lecture (Nowozin, Cseke & Tomioka 2016, "f-GAN", Tables 1-2):
// D_f(P||Q) = ∫ q(x) f(p(x)/q(x)) dx with f convex, f(1) = 0. Its variational bound
// D_f >= sup_T E_P[T(x)] - E_Q[f*(T(x))] is what an f-GAN's discriminator maximises, with
// T(x) = g_f(v(x)): the output activation g_f maps the raw output v into dom f*.
// Every function is a differentiable Var function, so it can be trained through.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "../autograd/variable.hpp"

namespace cgan::gan {

using VarFn = std::function<Var(const Var&)>;

struct FDivergence {
  std::string name;
  double pi = 0.5;              // weight of P (jensen-shannon-weighted only)
  VarFn f;                      // the generator f(u), u = p/q > 0
  VarFn conjugate;              // f*(t), exact formula, valid on dom f*
  VarFn activation;             // g_f(v): R -> dom f*
  VarFn conjugate_of_activation;  // f*(g_f(v)) in a form that is finite for every finite v
  double f_prime_at_1;          // f'(1) (a subgradient for total variation)
  double f_at_0;                // lim_{u->0} f(u): a region with p = 0 contributes q f(0)
  double f_slope_at_inf;        // lim_{u->inf} f(u)/u: a region with q = 0 contributes p times this
  double dom_lo, dom_hi;        // dom f* is the interval between these (ends may be infinite)
};

// The ten names, in the lecture's order.
std::vector<std::string> divergence_names();
// ValueError for an unknown name, or pi outside (0, 1).
FDivergence make_divergence(const std::string& name, double pi = 0.5);

// exp(x) for x <= 40, its tangent line beyond: the same value and slope where training
// happens, but finite (float32 too) for any finite x. Used inside g_f and f*(g_f) only.
Var exp_guarded(const Var& x);

}  // namespace cgan::gan
