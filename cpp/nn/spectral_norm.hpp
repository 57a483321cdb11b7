// Spectral normalisation (Miyato et al. 2018): the wrapped Linear uses W / sigma(W),
// sigma estimated by one power iteration per training forward with u kept between
// calls (inference reads u without advancing it). The gradient flows through sigma = u^T W v with u, v held fixed, as in the paper.
#pragma once
#include "module.hpp"

namespace cgan::nn {

class SpectralNorm : public Module {
 public:
  SpectralNorm(std::shared_ptr<Linear> inner, int power_iterations, Rng& rng, double eps = 1e-12);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "SpectralNorm"; }
  std::string config() const override;
  int64_t in_features() const override { return inner_->in_features(); }
  int64_t out_features() const override { return inner_->out_features(); }
  Named named_parameters() const override;
  Named named_buffers() const override;
  const std::shared_ptr<Linear>& inner() const { return inner_; }
  // sigma(W) estimated with the current u (no update).
  double sigma() const;
  // W / sigma, advancing u when grad mode is on.
  Var normalized_weight();

 private:
  // v = W^T u / ||W^T u||, and when `update` also u = W v / ||W v|| (repeated), no graph.
  Tensor power_iteration(bool update);
  Var normalized_sigma();
  std::shared_ptr<Linear> inner_;
  int iters_;
  double eps_;
  Var u_;  // (out,) buffer, saved with the model
};

}  // namespace cgan::nn
