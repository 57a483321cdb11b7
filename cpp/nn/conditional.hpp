// Class-conditional networks. Labels are not a second input of forward: they are the
// batch's context (forward_labels(), module.hpp), set by the GAN for each step and by
// module(x, labels=y) in Python, so objectives and penalties need not know about them
// (a gradient penalty interpolates images, never labels).
#pragma once
#include "module.hpp"

namespace cgan::nn {

// Embedding(num_classes, dim): integer labels (N,) -> rows of a (num_classes, dim) table.
class Embedding : public Module {
 public:
  Embedding(int64_t num_classes, int64_t dim, Rng& rng);
  Var forward(const Var& labels) override;
  std::string type_name() const override { return "Embedding"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  std::optional<Shape> in_shape() const override { return Shape{}; }
  Named own_parameters() const override { return {{"weight", weight_}}; }

 private:
  int64_t classes_, dim_;
  Var weight_;
};

// A Sequential conditioned on the labels of the batch, with a learned table E:
//  "add" (Mirza and Osindero 2014): after layer `at` - 1, h += E[y] (broadcast over an
//   image's height and width). With at = 1 after a Linear this is exactly concatenating
//   a one-hot label to the input; after a Conv2d, concatenating one-hot label maps to
//   the image (up to the zero padding at the borders).
//  "projection" (Miyato and Koyama 2018): out = body(x) + <E[y], phi(x)>, phi the
//   features entering the last layer, a Linear with one output.
class Conditional : public Module {
 public:
  Conditional(std::shared_ptr<Sequential> body, int64_t num_classes, const std::string& mode, int64_t at,
              Rng& rng);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Conditional"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override { return body_->out_shape(in); }
  std::optional<Shape> in_shape() const override { return body_->in_shape(); }
  NamedModules children() const override { return {{"module", body_}}; }
  Named own_parameters() const override { return {{"embedding", table_}}; }
  int64_t num_classes() const { return classes_; }

 private:
  std::shared_ptr<Sequential> body_;
  int64_t classes_;
  std::string mode_;
  int64_t at_;
  Var table_;
};

// E[y] for the labels of the batch being forwarded ((N, width) rows of `table`);
// ValueError naming `who` when there are no labels or not one per row.
Var label_rows(const Var& table, int64_t batch, const std::string& who);

// The number of classes a module tree is conditioned on (0: unconditional); ValueError
// when two parts disagree.
int64_t num_classes(const Module& m);

}  // namespace cgan::nn
