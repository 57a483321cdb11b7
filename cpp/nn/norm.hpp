// Normalisation layers with PyTorch's semantics: BatchNorm1d/2d (batch statistics in
// train mode, running averages with the unbiased variance for eval mode) and LayerNorm
// (per-sample statistics over the trailing dims; the WGAN-GP paper's critic norm).
#pragma once
#include "module.hpp"

namespace cgan::nn {

class BatchNorm : public Module {
 public:
  // spatial_dims: 1 for BatchNorm1d ((C,) or (C, L) per sample), 2 for BatchNorm2d (C, H, W).
  BatchNorm(int spatial_dims, int64_t num_features, double eps, double momentum, bool affine);
  Var forward(const Var& x) override;
  std::string type_name() const override { return dims_ == 2 ? "BatchNorm2d" : "BatchNorm1d"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  Named own_parameters() const override;
  Named own_buffers() const override;

 private:
  int dims_;
  int64_t c_;
  double eps_, momentum_;
  Var weight_, bias_;                                 // (C,) each, when affine
  Var running_mean_, running_var_, num_batches_tracked_;  // buffers
};

class BatchNorm1d : public BatchNorm {
 public:
  BatchNorm1d(int64_t c, double eps, double momentum, bool affine) : BatchNorm(1, c, eps, momentum, affine) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  BatchNorm2d(int64_t c, double eps, double momentum, bool affine) : BatchNorm(2, c, eps, momentum, affine) {}
};

class LayerNorm : public Module {
 public:
  LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  Named own_parameters() const override;

 private:
  Shape shape_;
  double eps_;
  Var weight_, bias_;
};

}  // namespace cgan::nn
