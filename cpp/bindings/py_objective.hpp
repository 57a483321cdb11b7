// Objectives written in Python: any object with d_loss(D, real, fake, rng) and
// g_loss(D, fake) returning 0-d cgan Tensors (d_loss may return a dict with "loss",
// "penalty", "divergence"), and optionally after_d_step(D), d_out_shape(data_shape),
// default_optimizer(discriminator), score(D, x) (D's per-sample scalar that R1 / R2
// differentiate; default D(x)). The training loop calls them with the GIL taken
// for the call only; gradient penalties written with cgan.grad get double backward.
#pragma once
#include "convert.hpp"
#include "gan/objective.hpp"

namespace cgan::bind {

class PyObjective : public gan::Objective {
 public:
  explicit PyObjective(py::object obj);
  ~PyObjective() override;
  std::string name() const override;
  gan::DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const override;
  Var g_loss(nn::Module& D, const Var& fake) const override;
  void after_d_step(nn::Module& D) const override;
  Shape d_out_shape(const Shape& data) const override;
  gan::OptimizerDefaults default_optimizer(bool discriminator) const override;
  Var score(nn::Module& D, const Var& x) const override;

 private:
  py::object obj_;
};

}  // namespace cgan::bind
