// Row lookups by integer index (embedding tables). The pair closes under
// differentiation: take_rows' table gradient is scatter_add_rows, and
// scatter_add_rows' gradient is take_rows, so double backward works through them.
#pragma once
#include <memory>
#include <vector>

#include "../autograd/variable.hpp"

namespace cgan::ops {

using Indices = std::shared_ptr<const std::vector<int64_t>>;

// table (R, *) -> (N, *): row idx[k] of the table for every k.
Var take_rows(const Var& table, const Indices& idx);
// g (N, *) -> (rows, *): row r is the sum of g's rows k with idx[k] = r.
Var scatter_add_rows(const Var& g, const Indices& idx, int64_t rows);

}  // namespace cgan::ops
