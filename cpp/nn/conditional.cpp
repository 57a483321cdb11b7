#include "conditional.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "conv.hpp"
#include "linear.hpp"
#include "mlp.hpp"

namespace cgan::nn {

namespace {

// Labels from a float tensor of integer values (what Embedding receives as input).
ops::Indices indices_of(const Tensor& t, int64_t classes, const char* who) {
  auto idx = std::make_shared<std::vector<int64_t>>(t.numel());
  dispatch(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* v = t.template data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (!(v[i] >= 0 && v[i] < T(classes) && v[i] == std::floor(v[i])))
        throw ValueError(std::string(who) + ": labels must be integers in [0, " + std::to_string(classes) +
                         "), got " + std::to_string(double(v[i])));
      (*idx)[i] = int64_t(v[i]);
    }
  });
  return idx;
}

Var glorot_table(int64_t rows, int64_t cols, Rng& rng) {
  double bound = std::sqrt(6.0 / double(rows + cols));
  return Var(rng.uniform({rows, cols}, DType::f32, -bound, bound), true);
}

// Width of what a layer gives per sample along its first axis (features or channels).
int64_t leading_width(const Module& m) {
  if (auto* l = dynamic_cast<const Linear*>(&m)) return l->out_features();
  if (auto* c = dynamic_cast<const Conv2d*>(&m)) return c->options().out_channels;
  throw ValueError("Conditional: the layer before the label is added must be a Linear, Conv2d or "
                   "ConvTranspose2d, got " + m.type_name());
}

const Module& unwrap(const Module& m) {
  for (auto& [name, child] : m.children())
    if (name == "module") return unwrap(*child);  // SpectralNorm
  return m;
}

}  // namespace

// ---- Embedding ------------------------------------------------------------------------------

Embedding::Embedding(int64_t classes, int64_t dim, Rng& rng) : classes_(classes), dim_(dim) {
  if (classes < 1 || dim < 1)
    throw ValueError("Embedding: num_classes and dim must be >= 1, got " + std::to_string(classes) + " and " +
                     std::to_string(dim));
  weight_ = Var(rng.normal({classes, dim}, DType::f32), true);  // PyTorch's N(0, 1)
}

Var Embedding::forward(const Var& labels) {
  out_shape(sample_shape(labels.shape(), "Embedding"));
  return ops::take_rows(weight_, indices_of(labels.data(), classes_, "Embedding"));
}

Shape Embedding::out_shape(const Shape& in) const {
  if (!in.empty())
    throw ValueError("Embedding expects labels of shape (N,), got " + batch_shape_str(in));
  return {dim_};
}

Config Embedding::config() const {
  Config c;
  c.set("type", "Embedding");
  c.set("num_classes", classes_);
  c.set("dim", dim_);
  return c;
}

// ---- Conditional ------------------------------------------------------------------------------

Conditional::Conditional(std::shared_ptr<Sequential> body, int64_t classes, const std::string& mode,
                         int64_t at, Rng& rng)
    : body_(std::move(body)), classes_(classes), mode_(mode), at_(at) {
  if (!body_) throw ValueError("Conditional: needs a Sequential network");
  if (classes < 1) throw ValueError("Conditional: num_classes must be >= 1, got " + std::to_string(classes));
  int64_t n = int64_t(body_->layers().size());
  if (mode == "add") {
    if (at < 1 || at > n)
      throw ValueError("Conditional: 'at' must be in [1, " + std::to_string(n) + "], got " + std::to_string(at));
    table_ = glorot_table(classes, leading_width(unwrap(*body_->layers()[at - 1])), rng);
  } else if (mode == "projection") {
    auto* last = n ? dynamic_cast<const Linear*>(&unwrap(*body_->layers().back())) : nullptr;
    if (!last || last->out_features() != 1)
      throw ValueError("Conditional: projection needs a last layer Linear(features, 1)");
    at_ = n - 1;
    table_ = glorot_table(classes, last->in_features(), rng);
  } else {
    throw ValueError("Conditional: mode must be 'add' or 'projection', got '" + mode + "'");
  }
}

Var label_rows(const Var& table, int64_t batch, const std::string& who) {
  const ops::Indices& y = forward_labels();
  if (!y)
    throw ValueError(who + " is conditional and needs class labels (fit/sample/step with labels=, or "
                           "module(x, labels=y))");
  if (int64_t(y->size()) != batch)
    throw ValueError(who + ": " + std::to_string(y->size()) + " labels for a batch of " + std::to_string(batch));
  return ops::take_rows(table, y);
}

Var Conditional::forward(const Var& x) {
  Var e = label_rows(table_, x.shape().empty() ? 0 : x.shape()[0], "Conditional");  // (N, width)
  Var h = body_->forward_until(x, size_t(at_));
  size_t n = body_->layers().size();
  if (mode_ == "add") {
    Shape s(h.shape().size(), 1);
    s[0] = h.shape()[0];
    s[1] = e.shape()[1];
    h = ops::add(h, ops::reshape(e, s));
    return body_->forward_range(h, size_t(at_), n);
  }
  Var out = body_->forward_range(h, n - 1, n);
  Var phi = ops::reshape(h, {h.shape()[0], h.numel() / h.shape()[0]});
  return ops::add(out, ops::sum(ops::mul(e, phi), 1, true));
}

Config Conditional::config() const {
  Config c;
  c.set("type", "Conditional");
  c.set("num_classes", classes_);
  c.set("mode", mode_);
  c.set("at", at_);
  c.set("module", body_->config());
  return c;
}

int64_t num_classes(const Module& m) {
  int64_t found = 0;
  if (auto* c = dynamic_cast<const Conditional*>(&m)) found = c->num_classes();
  if (auto* mlp = dynamic_cast<const MLP*>(&m)) found = mlp->options().num_classes;
  for (auto& [name, child] : m.children()) {
    int64_t k = num_classes(*child);
    if (k && found && k != found)
      throw ValueError("parts of one network are conditioned on " + std::to_string(found) + " and " +
                       std::to_string(k) + " classes");
    if (k) found = k;
  }
  return found;
}

}  // namespace cgan::nn
