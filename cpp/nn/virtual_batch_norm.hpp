// Virtual batch normalisation (Salimans et al. 2016, "Improved techniques for training
// GANs", Sec. 3.4): batch norm makes one sample's output depend on the other samples of
// its batch; VBN normalises each sample x with the statistics of a reference batch,
// fixed once at the start of training, together with x itself:
//   mean   = c x + (1 - c) E_ref[h]      c = 1 / (n_ref + 1)
//   mean2  = c x^2 + (1 - c) E_ref[h^2]
//   y      = (x - mean) / sqrt(mean2 - mean^2 + eps) * weight + bias
// (per feature for (N, C); for (N, C, H, W) per channel, x's own statistics being its
// mean over H, W, the reference's over N, H, W). The reference batch itself is
// normalised with its own statistics. Its statistics are recomputed, with their graph,
// by a reference pass through the network before each forward (the GAN's
// `virtual_batch_norm` keyword does that), so gradients flow through them as in the
// paper; called on its own, the layer takes the batch it is given as the reference.
// There is no train/eval difference and no running state.
#pragma once
#include "module.hpp"

namespace cgan::nn {

class VirtualBatchNorm : public Module {
 public:
  // spatial_dims: 1 for (C,) per sample, 2 for (C, H, W).
  VirtualBatchNorm(int spatial_dims, int64_t num_features, double eps);
  Var forward(const Var& x) override;
  std::string type_name() const override { return dims_ == 2 ? "VirtualBatchNorm2d" : "VirtualBatchNorm1d"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  Named own_parameters() const override { return {{"weight", weight_}, {"bias", bias_}}; }
  // Drops the reference statistics (and the graph they hold).
  void clear_reference() { ref_mean_ = ref_mean_sq_ = Var(); }

 private:
  int dims_;
  int64_t c_;
  double eps_;
  Var weight_, bias_;             // (C,) each
  Var ref_mean_, ref_mean_sq_;    // (1, C) or (1, C, 1, 1), from the last reference pass
  int64_t ref_n_ = 0;
};

class VirtualBatchNorm1d : public VirtualBatchNorm {
 public:
  VirtualBatchNorm1d(int64_t c, double eps) : VirtualBatchNorm(1, c, eps) {}
};

class VirtualBatchNorm2d : public VirtualBatchNorm {
 public:
  VirtualBatchNorm2d(int64_t c, double eps) : VirtualBatchNorm(2, c, eps) {}
};

// While alive, every VirtualBatchNorm forward on this thread is a reference pass: the
// layer normalises the batch with its own statistics and keeps them for the forwards
// that follow.
class VbnReferencePass {
 public:
  VbnReferencePass();
  ~VbnReferencePass();
  VbnReferencePass(const VbnReferencePass&) = delete;
  VbnReferencePass& operator=(const VbnReferencePass&) = delete;

 private:
  bool prev_;
};

// Whether `m` or any module below it is a VirtualBatchNorm.
bool has_virtual_batch_norm(const Module& m);
// Drops the reference statistics of every VirtualBatchNorm in `m`, so that none
// outlives the forward it was computed for (stale weights, a graph kept alive).
void clear_vbn_references(Module& m);

}  // namespace cgan::nn
