// Normalisation and image-shape ops: reductions over several axes, batch and layer
// normalisation, nearest-neighbour upsampling. Rules are written with differentiable
// ops, so double backward (gradient penalties) works through them.
#pragma once
#include <vector>

#include "../autograd/variable.hpp"

namespace cgan::ops {

// Sum / mean over the given axes (negative axes count from the end; each at most once).
Var sum(const Var& x, const std::vector<int64_t>& axes, bool keepdim);
Var mean(const Var& x, const std::vector<int64_t>& axes, bool keepdim);

// Batch statistics of a train-mode batch norm, for the module's running averages:
// per-channel mean and biased variance (no graph).
struct BatchStats {
  Tensor mean, var;
};

// x (N, C) or (N, C, *spatial); statistics per channel (axis 1) over every other axis.
// Train mode: normalise with the batch's mean and biased variance (written to *stats
// when given). weight/bias: (C,) or undefined (no affine).
Var batch_norm_train(const Var& x, const Var& weight, const Var& bias, double eps, BatchStats* stats);
// Eval mode: normalise with the given running mean and variance (constants, shape (C,)).
Var batch_norm_eval(const Var& x, const Tensor& running_mean, const Tensor& running_var,
                    const Var& weight, const Var& bias, double eps);
// Normalise over the last `normalized_ndim` axes of each sample (biased variance), then
// weight * x_hat + bias with weight/bias of those trailing dims' shape (or undefined).
Var layer_norm(const Var& x, int64_t normalized_ndim, const Var& weight, const Var& bias, double eps);
// x (N, C, H, W) -> (N, C, H*sh, W*sw), each pixel repeated (PyTorch mode="nearest").
Var upsample_nearest(const Var& x, int64_t scale_h, int64_t scale_w);
// x (N, C, H, W) -> (N, C, H/sh, W/sw), each sh x sw block summed (H, W multiples of the
// scales): the adjoint of upsample_nearest, so each is the other's derivative rule.
Var block_sum(const Var& x, int64_t scale_h, int64_t scale_w);
// y = x * scale[c] + shift[c] for x (N, C, *spatial), scale/shift (C,): eval-mode batch
// norm once its statistics are folded in.
Var channel_affine(const Var& x, const Var& scale, const Var& shift);

}  // namespace cgan::ops
