// Objectives with a penalty on the norm of D's input gradient: WGAN-GP (Gulrajani 2017)
// and DRAGAN (Kodali 2017). The gradient is taken with create_graph, so the penalty is
// itself a graph that the discriminator's update differentiates (double backward).
#include <cmath>

#include "../autograd/engine.hpp"
#include "../ops/ops.hpp"
#include "../tensor/errors.hpp"
#include "objectives.hpp"

namespace cgan::gan {

using namespace cgan::ops;

Var gradient_penalty(nn::Module& D, const Tensor& x, bool one_sided) {
  Var at(x, /*requires_grad=*/true);
  // An extra look at D, not a training batch: batch-norm statistics and spectral
  // norm's power iteration stay where the real and fake batches left them.
  nn::FreezeRunningState frozen;
  Var v = D.forward(at);
  Var g = grad({v}, {at}, {ones_like(v)}, /*create_graph=*/true)[0];
  Var excess = sub(row_norm(flatten_rows(g)), 1.0);
  if (one_sided) excess = relu(excess);
  return mean(square(excess));
}

Tensor interpolate(const Var& real, const Var& fake, Rng& rng) {
  NoGradGuard no_grad;
  Shape eps_shape(real.shape().size(), 1);
  eps_shape[0] = real.shape()[0];
  Var eps = constant(rng.uniform(eps_shape, real.dtype()));
  return add(mul(eps, real.detach()), mul(rsub(1.0, eps), fake.detach())).data();
}

namespace {

double read_lambda(const std::string& objective, const ObjectiveOptions& o) {
  double lambda = o.get("lambda_gp", 10.0);
  if (!(lambda >= 0)) throw ValueError(objective + ": option lambda_gp must be >= 0");
  return lambda;
}

// ---- WGAN-GP ------------------------------------------------------------------------------

class WGanGp : public Objective {
 public:
  explicit WGanGp(const ObjectiveOptions& o) {
    check_options("wgan-gp", o, {"lambda_gp", "one_sided"}, {}, {"one_sided"});
    lambda_ = read_lambda("wgan-gp", o);
    double one_sided = o.get("one_sided", 0.0);
    if (one_sided != 0 && one_sided != 1) throw ValueError("wgan-gp: option one_sided must be 0 or 1");
    one_sided_ = one_sided == 1;
  }
  std::string name() const override { return "wgan-gp"; }

  DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const override {
    check_same_batch("wgan-gp", real, fake);
    if (real.shape() != fake.shape())
      throw ValueError("wgan-gp: real and fake batches differ in shape: " + shape_str(real.shape()) +
                       " vs " + shape_str(fake.shape()));
    Var v_real = D.forward(real), v_fake = D.forward(fake);
    Var critic = sub(mean(v_fake), mean(v_real));
    Var penalty = gradient_penalty(D, interpolate(real, fake, rng), one_sided_);
    DLoss out;
    out.loss = add(critic, mul(penalty, lambda_));
    out.penalty = penalty.data().item();
    out.divergence = -critic.data().item();  // E_P D - E_Q D, the W1 estimate
    return out;
  }
  Var g_loss(nn::Module& D, const Var& fake) const override { return neg(mean(D.forward(fake))); }
  // Gulrajani 2017's toy-data code; the paper's Algorithm 1 uses beta1 = 0.
  OptimizerDefaults default_optimizer(bool) const override { return {"adam", 1e-4, 0.5, 0.9}; }

 private:
  double lambda_;
  bool one_sided_;
};

// ---- DRAGAN: the non-saturating game plus a gradient penalty near the data -----------------

class Dragan : public Objective {
 public:
  explicit Dragan(const ObjectiveOptions& o) {
    check_options("dragan", o, {"lambda_gp", "perturb"});
    lambda_ = read_lambda("dragan", o);
    perturb_ = o.get("perturb", 0.5);
    if (!(perturb_ >= 0)) throw ValueError("dragan: option perturb must be >= 0");
  }
  std::string name() const override { return "dragan"; }

  DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const override {
    Var v_real = D.forward(real), v_fake = D.forward(fake);
    Var game = add(mean(softplus(neg(v_real))), mean(softplus(v_fake)));
    // Kodali et al.'s code (DRAGAN.ipynb): x_p = x_r + c std(x_r) U[0,1) per element (std
    // over the whole batch), and the penalty at x_r + alpha (x_p - x_r), one alpha ~ U[0,1)
    // per sample, as WGAN-GP interpolates.
    Tensor perturbed;
    {
      NoGradGuard no_grad;
      Var x = real.detach();
      double std = std::sqrt(mean(square(sub(x, mean(x)))).data().item());
      Var delta = mul(constant(rng.uniform(x.shape(), x.dtype())), perturb_ * std);
      Shape alpha_shape(x.shape().size(), 1);
      alpha_shape[0] = x.shape()[0];
      Var alpha = constant(rng.uniform(alpha_shape, x.dtype()));
      perturbed = add(x, mul(alpha, delta)).data();
    }
    Var penalty = gradient_penalty(D, perturbed, /*one_sided=*/false);
    DLoss out;
    out.loss = add(game, mul(penalty, lambda_));
    out.penalty = penalty.data().item();
    out.divergence = std::log(2.0) - 0.5 * game.data().item();  // JSD estimate, as nsgan
    return out;
  }
  Var g_loss(nn::Module& D, const Var& fake) const override {
    return mean(softplus(neg(D.forward(fake))));
  }
  OptimizerDefaults default_optimizer(bool) const override { return {"adam", 1e-4, 0.5, 0.9}; }

 private:
  double lambda_, perturb_;
};

}  // namespace

std::unique_ptr<Objective> make_wgan_gp(const ObjectiveOptions& o) { return std::make_unique<WGanGp>(o); }
std::unique_ptr<Objective> make_dragan(const ObjectiveOptions& o) { return std::make_unique<Dragan>(o); }

}  // namespace cgan::gan
