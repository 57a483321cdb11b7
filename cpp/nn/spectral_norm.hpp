// Spectral normalisation (Miyato et al. 2018): the wrapped layer (Linear, Conv2d or
// ConvTranspose2d) uses W / sigma(W), where sigma is the largest singular value of W
// viewed as a matrix (shape[0], rest) (for Conv2d: (out, in*kh*kw); for ConvTranspose2d
// its first dim, in channels, where PyTorch's default uses out channels). sigma is
// estimated by power iteration with u kept between calls; u advances only in
// train-mode forwards that may move running state (module.hpp). The gradient flows
// through sigma = u^T W v with u, v held fixed, as in the paper.
#pragma once
#include "module.hpp"
#include "weighted.hpp"

namespace cgan::nn {

class SpectralNorm : public Module {
 public:
  SpectralNorm(ModulePtr inner, int power_iterations, Rng& rng, double eps = 1e-12);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "SpectralNorm"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override { return inner_->out_shape(in); }
  std::optional<Shape> in_shape() const override { return inner_->in_shape(); }
  NamedModules children() const override { return {{"module", inner_}}; }
  Named own_buffers() const override { return {{"u", u_}}; }
  const ModulePtr& inner() const { return inner_; }
  int power_iterations() const { return iters_; }
  // sigma(W) estimated with the current u (no update).
  double sigma() const;
  // W / sigma, advancing u when this forward may move running state.
  Var normalized_weight();

 private:
  // v = W^T u / ||W^T u||, and when `update` also u = W v / ||W v|| (repeated), no graph.
  Tensor power_iteration(bool update);
  Var normalized_sigma(bool update);
  ModulePtr inner_;
  Weighted* weighted_;
  int iters_;
  double eps_;
  Var u_;  // (shape[0],) buffer, saved with the model
};

}  // namespace cgan::nn

