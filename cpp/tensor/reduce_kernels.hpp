// Reductions over several axes and the nearest-neighbour resampling pair. Every sum has a
// fixed order that depends only on the shapes (never on the thread count), so results are
// bitwise repeatable; the work is split over the pool when it is large.
#pragma once
#include <vector>

#include "parallel.hpp"
#include "tensor.hpp"

namespace cgan::kernels {

// Axes in [-ndim, ndim) -> sorted axes in [0, ndim); ValueError naming `op` for an axis out
// of range or given twice.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t ndim, const char* op);
// The shape of a reduction's result: reduced axes dropped, or kept as 1 with keepdim.
Shape reduced_shape(const Shape& s, const std::vector<int64_t>& axes, bool keepdim);

// Sum over the given (normalised) axes, accumulated in double. Adjacent axes of the same
// kind are merged, so (N, C, H, W) over (0, 2, 3) is a sum over rows (n, c, :) of length
// H*W per channel. The rows of each output are cut into blocks of about 4096 values whose
// partial sums are combined in block order: the blocks are the parallel pieces.
Tensor sum_axes(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim);

// x (N, C, H, W) -> (N, C, H*sh, W*sw), every pixel repeated over an sh x sw block.
Tensor upsample_nearest(const Tensor& x, int64_t sh, int64_t sw);
// y (N, C, H*sh, W*sw) -> (N, C, H, W), each sh x sw block summed: the adjoint of
// upsample_nearest (its gradient).
Tensor block_sum(const Tensor& y, int64_t sh, int64_t sw);

}  // namespace cgan::kernels
