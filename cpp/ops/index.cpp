#include "index.hpp"

#include <cstring>

#include "../tensor/errors.hpp"

namespace cgan::ops {

namespace {

void check_indices(const Indices& idx, int64_t rows, const char* who) {
  for (int64_t i : *idx)
    if (i < 0 || i >= rows)
      throw ValueError(std::string(who) + ": index " + std::to_string(i) + " is outside [0, " +
                       std::to_string(rows) + ")");
}

// Bytes of one row of a tensor whose first axis is the row axis.
size_t row_bytes(const Tensor& t) { return t.shape()[0] ? t.nbytes() / t.shape()[0] : 0; }

}  // namespace

Var take_rows(const Var& table, const Indices& idx) {
  if (table.shape().empty()) throw ValueError("take_rows: the table needs a row axis");
  int64_t rows = table.shape()[0];
  check_indices(idx, rows, "take_rows");
  Shape s = table.shape();
  s[0] = int64_t(idx->size());
  Tensor out = Tensor::empty(s, table.dtype());
  size_t rb = row_bytes(table.data());
  auto* src = static_cast<const char*>(table.data().raw());
  auto* dst = static_cast<char*>(out.raw());
  for (size_t k = 0; k < idx->size(); ++k) std::memcpy(dst + k * rb, src + (*idx)[k] * rb, rb);
  return record("take_rows", std::move(out), {table}, [idx, rows](const BackwardCtx& c) {
    return std::vector<Var>{scatter_add_rows(c.grad_out, idx, rows)};
  });
}

Var scatter_add_rows(const Var& g, const Indices& idx, int64_t rows) {
  if (g.shape().empty() || g.shape()[0] != int64_t(idx->size()))
    throw ValueError("scatter_add_rows: one row of g per index expected");
  check_indices(idx, rows, "scatter_add_rows");
  Shape s = g.shape();
  s[0] = rows;
  Tensor out = Tensor::zeros(s, g.dtype());
  int64_t width = rows ? out.numel() / rows : 0;
  dispatch(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = g.data().template data<T>();
    T* dst = out.template data<T>();
    // In index order: a fixed summation order for repeated indices.
    for (size_t k = 0; k < idx->size(); ++k) {
      T* row = dst + (*idx)[k] * width;
      const T* from = src + int64_t(k) * width;
      for (int64_t j = 0; j < width; ++j) row[j] += from[j];
    }
  });
  return record("scatter_add_rows", std::move(out), {g}, [idx](const BackwardCtx& c) {
    return std::vector<Var>{take_rows(c.grad_out, idx)};
  });
}

}  // namespace cgan::ops
