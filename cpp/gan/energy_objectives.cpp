// Objectives where D outputs an energy or a loss rather than a logit: EBGAN (Zhao 2016),
// whose D is an autoencoder, and the loss-sensitive GAN (Qi 2017).
#include <optional>

#include "../ops/ops.hpp"
#include "../tensor/errors.hpp"
#include "objectives.hpp"

namespace cgan::gan {

using namespace cgan::ops;

namespace {

// ---- EBGAN ---------------------------------------------------------------------------------

class EbGan : public Objective {
 public:
  explicit EbGan(const ObjectiveOptions& o) {
    check_options("ebgan", o, {"margin", "pt_weight", "code_layer"});
    margin_ = o.get("margin", 1.0);
    pt_weight_ = o.get("pt_weight", 0.0);
    if (!(margin_ > 0)) throw ValueError("ebgan: option margin must be positive");
    if (!(pt_weight_ >= 0)) throw ValueError("ebgan: option pt_weight must be >= 0");
    // Left out, the code is the middle layer; given, it must be a layer count (no -1 for
    // "default"). The range check comes before the cast (int64_t of 1e300 is UB).
    if (o.num.count("code_layer")) {
      double c = o.num.at("code_layer");
      if (!(c >= 1 && c < 0x1p63 && c == double(int64_t(c))))
        throw ValueError("ebgan: option code_layer must be a positive integer (layers before the code), got " +
                         std::to_string(c) + "; leave it out for the middle layer");
      code_layer_ = int64_t(c);
    }
  }
  std::string name() const override { return "ebgan"; }

  // D: E(x_r) + [m - E(x_f)]^+ (Zhao 2016, Eq. 1): fakes are pushed up to the margin only.
  DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng&) const override {
    Var e_real = energy(D, real), e_fake = energy(D, fake);
    DLoss out;
    out.loss = add(mean(e_real), mean(relu(rsub(margin_, e_fake))));
    return out;
  }
  // G: E(x_f) (Eq. 2) + pt_weight * pulling-away term on the code (Sec. 2.4).
  Var g_loss(nn::Module& D, const Var& fake) const override {
    Var loss = mean(energy(D, fake));
    if (pt_weight_ > 0) loss = add(loss, mul(pulling_away(code(D, fake)), pt_weight_));
    return loss;
  }
  Shape d_out_shape(const Shape& data) const override { return data; }
  Var score(nn::Module& D, const Var& x) const override { return energy(D, x); }

 private:
  // Per-sample mean squared reconstruction error ||D(x) - x||^2 / dim, shape (N, 1).
  static Var energy(nn::Module& D, const Var& x) {
    Var r = D.forward(x);
    if (r.shape() != x.shape())
      throw ValueError("ebgan: D must be an autoencoder (output shape = input shape); got " +
                       shape_str(r.shape()) + " for input " + shape_str(x.shape()));
    return mean(square(sub(flatten_rows(r), flatten_rows(x))), 1, true);
  }
  Var code(nn::Module& D, const Var& x) const {
    auto* seq = dynamic_cast<nn::Sequential*>(&D);
    if (!seq) throw ValueError("ebgan: pt_weight > 0 needs D to be a Sequential (or MLP) autoencoder");
    int64_t n = static_cast<int64_t>(seq->layers().size());
    int64_t end = code_layer_ ? *code_layer_ : n / 2;
    if (end < 1 || end >= n)
      throw ValueError("ebgan: code_layer must be in [1, " + std::to_string(n - 1) + "], got " +
                       std::to_string(end));
    return flatten_rows(seq->forward_until(x, size_t(end)));
  }
  // PT = 1/(N(N-1)) sum_{i != j} cos^2(s_i, s_j): pushes the codes of a batch apart.
  static Var pulling_away(const Var& s) {
    int64_t n = s.shape()[0];
    if (n < 2) return scalar_like(0.0, s);
    Var unit = div(s, add(row_norm(s), 1e-12));  // eps: a ReLU code can be all zero
    Var cos2 = square(matmul(unit, unit, false, true));
    Var diag = square(sum(square(unit), 1));  // cos^2(s_i, s_i), exactly as in cos2
    return div(sub(sum(cos2), sum(diag)), double(n * (n - 1)));
  }
  double margin_, pt_weight_;
  std::optional<int64_t> code_layer_;  // layers before the code; none: the middle one
};

// ---- loss-sensitive GAN --------------------------------------------------------------------

// A loss L(x) that should be lower on real data than on fakes by a margin
// Delta(x_r, x_f) = ||x_r - x_f||_1 (Qi 2017, Eq. 5); pairs are taken by row index.
//   D minimises lambda_real E L(x_r) + lambda_ls E relu(Delta + L(x_r) - L(x_f)) + lambda_gp GP
//   G minimises E L(x_f)
// Taken literally (L = v, lambda_real = 1, no penalty) the D loss is unbounded below:
// L - c lowers E L(x_r) by c and leaves the hinge alone, so L drifts to -inf (on the ring:
// L(x_r) ~ -370 after 1000 steps, 3.7% of the samples near a mode). The defaults follow
// Qi's model and released code instead:
//  * lambda_real = 0: his code's default for the unconditional GAN (the paper's theorem
//    does not need the term). The loss is then shift-invariant and >= 0.
//  * L = softplus(v) >= 0: L is a loss (his code ends D with a ReLU, which has no
//    gradient wherever v < 0); with lambda_real > 0 this is what bounds the loss.
//  * L Lipschitz (the paper's function class; his code uses weight decay, which does not
//    bound a deep ReLU net): the lecture's one-sided gradient penalty
//    GP = E max(0, ||grad_x v(x_hat)|| - 1)^2 at interpolates x_hat of real and fake.
class LossSensitive : public Objective {
 public:
  explicit LossSensitive(const ObjectiveOptions& o) {
    check_options("loss-sensitive", o, {"lambda_ls", "lambda_gp", "lambda_real"}, {"loss_output"});
    lambda_ = o.get("lambda_ls", 10.0);
    lambda_real_ = o.get("lambda_real", 0.0);
    if (!(lambda_real_ >= 0)) throw ValueError("loss-sensitive: option lambda_real must be >= 0");
    lambda_gp_ = o.get("lambda_gp", 10.0);
    output_ = o.get("loss_output", std::string("softplus"));
    if (!(lambda_ >= 0)) throw ValueError("loss-sensitive: option lambda_ls must be >= 0");
    if (!(lambda_gp_ >= 0)) throw ValueError("loss-sensitive: option lambda_gp must be >= 0");
    if (output_ != "softplus" && output_ != "relu" && output_ != "linear")
      throw ValueError("loss-sensitive: option loss_output must be 'softplus', 'relu' or 'linear', got '" +
                       output_ + "'");
  }
  std::string name() const override { return "loss-sensitive"; }
  DLoss d_loss(nn::Module& D, const Var& real, const Var& fake, Rng& rng) const override {
    check_same_batch("loss-sensitive", real, fake);
    Var l_real = loss_of(D, real), l_fake = loss_of(D, fake);
    Var margin = sum(abs(sub(flatten_rows(real), flatten_rows(fake))), 1, true);
    Var violation = relu(add(margin, sub(l_real, l_fake)));
    DLoss out;
    out.loss = mul(mean(violation), lambda_);
    if (lambda_real_ > 0) out.loss = add(mul(mean(l_real), lambda_real_), out.loss);
    if (lambda_gp_ > 0) {
      if (real.shape() != fake.shape())
        throw ValueError("loss-sensitive: real and fake batches differ in shape: " +
                         shape_str(real.shape()) + " vs " + shape_str(fake.shape()));
      // On v: ||grad L|| = sigmoid(v) ||grad v|| <= ||grad v||, so L is Lipschitz too.
      Var penalty = gradient_penalty(D, interpolate(real, fake, rng), /*one_sided=*/true);
      out.loss = add(out.loss, mul(penalty, lambda_gp_));
      out.penalty = penalty.data().item();
    }
    return out;
  }
  Var g_loss(nn::Module& D, const Var& fake) const override { return mean(loss_of(D, fake)); }

 private:
  Var loss_of(nn::Module& D, const Var& x) const {
    Var v = D.forward(x);
    if (output_ == "softplus") return softplus(v);
    if (output_ == "relu") return relu(v);
    return v;
  }
  double lambda_, lambda_gp_, lambda_real_;
  std::string output_;
};

}  // namespace

std::unique_ptr<Objective> make_ebgan(const ObjectiveOptions& o) { return std::make_unique<EbGan>(o); }
std::unique_ptr<Objective> make_loss_sensitive(const ObjectiveOptions& o) {
  return std::make_unique<LossSensitive>(o);
}

}  // namespace cgan::gan
