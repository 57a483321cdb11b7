// The objectives whose losses are functions of D's raw outputs, and the registry.
// Every log D / log(1 - D) is written as -softplus(-v) / -softplus(v), never log(sigmoid).
#include "objectives.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "../optim/optimizer.hpp"
#include "../tensor/errors.hpp"
#include "divergences.hpp"
#include "regularizers.hpp"

namespace cgan::gan {

using namespace cgan::ops;

// ---- shared pieces --------------------------------------------------------------------

DLoss RawOutputObjective::d_loss(nn::Module& D, const Var& real, const Var& fake, Rng&) const {
  Var v_real = D.forward(real), v_fake = D.forward(fake);
  DLoss out;
  out.loss = d_loss_raw(v_real, v_fake);
  NoGradGuard no_grad;
  out.divergence = divergence_raw(v_real.detach(), v_fake.detach());
  return out;
}

Var RawOutputObjective::g_loss(nn::Module& D, const Var& fake) const {
  return g_loss_raw(D.forward(fake));
}

void check_options(const std::string& objective, const ObjectiveOptions& o,
                   const std::vector<std::string>& num_keys,
                   const std::vector<std::string>& str_keys,
                   const std::vector<std::string>& flag_keys) {
  auto listed = [](const std::vector<std::string>& ks, const std::string& k) {
    for (auto& x : ks) if (x == k) return true;
    return false;
  };
  auto accepted = [&] {
    std::string s;
    for (auto& k : num_keys) s += " " + k + " (number)";
    for (auto& k : str_keys) s += " " + k + " (string)";
    for (auto& k : common_option_keys()) s += " " + k + " (number)";  // taken by make_objective
    return s;
  };
  auto unknown = [&](const std::string& k) {
    std::vector<std::string> names = num_keys;
    names.insert(names.end(), str_keys.begin(), str_keys.end());
    names.insert(names.end(), common_option_keys().begin(), common_option_keys().end());
    return "unknown option '" + k + "' (did you mean '" + closest_name(k, names) + "'?)";
  };
  for (auto& [k, v] : o.num)
    if (!listed(num_keys, k))
      throw ValueError(objective + ": " + (listed(str_keys, k) ? "option '" + k + "' must be a string" : unknown(k)) +
                       "; accepted:" + accepted());
  for (auto& [k, v] : o.str)
    if (!listed(str_keys, k))
      throw ValueError(objective + ": " + (listed(num_keys, k) ? "option '" + k + "' must be a number" : unknown(k)) +
                       "; accepted:" + accepted());
  // No option means "default" by an out-of-range value: inf or NaN is refused, not clipped.
  for (auto& [k, v] : o.num)
    if (!std::isfinite(v))
      throw ValueError(objective + ": option '" + k + "' must be a finite number, got " + std::to_string(v));
  for (auto& k : o.flags)
    if (o.num.count(k) && !listed(flag_keys, k))
      throw ValueError(objective + ": option '" + k + "' must be a number, got a bool");
}

Var flatten_rows(const Var& x) {
  if (x.shape().size() == 2) return x;
  if (x.shape().empty()) throw ValueError("expected a batch (N, ...), got a 0-d tensor");
  int64_t n = x.shape()[0];
  return reshape(x, {n, n == 0 ? 0 : x.numel() / n});
}

void check_same_batch(const std::string& objective, const Var& real, const Var& fake) {
  if (real.shape().empty() || fake.shape().empty() || real.shape()[0] != fake.shape()[0])
    throw ValueError(objective + ": real and fake batches must hold the same number of samples, got " +
                     shape_str(real.shape()) + " and " + shape_str(fake.shape()));
}

namespace {

double require(const std::string& objective, const std::string& key, double v, bool ok,
               const std::string& what) {
  if (!ok || std::isnan(v))
    throw ValueError(objective + ": option " + key + " must be " + what + ", got " + std::to_string(v));
  return v;
}

// ---- minimax / non-saturating (Goodfellow 2014) ---------------------------------------

// D: cross-entropy of sigmoid(v) against targets 1 (real; 1 - s with one-sided label
// smoothing, Salimans 2016) and 0 (fake). -log sigmoid(v) = softplus(-v).
class CrossEntropyGan : public RawOutputObjective {
 public:
  CrossEntropyGan(std::string name, bool saturating, const ObjectiveOptions& o)
      : name_(std::move(name)), saturating_(saturating) {
    check_options(name_, o, {"label_smoothing"});
    smoothing_ = o.get("label_smoothing", 0.0);
    require(name_, "label_smoothing", smoothing_, smoothing_ >= 0 && smoothing_ < 1, "in [0, 1)");
  }
  std::string name() const override { return name_; }
  Var d_loss_raw(const Var& v_real, const Var& v_fake) const override {
    // soft target y: -y log s(v) - (1 - y) log(1 - s(v)) = y softplus(-v) + (1 - y) softplus(v)
    Var real_term = softplus(neg(v_real));
    if (smoothing_ > 0)
      real_term = add(mul(real_term, 1.0 - smoothing_), mul(softplus(v_real), smoothing_));
    return add(mean(real_term), mean(softplus(v_fake)));
  }
  Var g_loss_raw(const Var& v_fake) const override {
    if (saturating_) return neg(mean(softplus(v_fake)));  // E log(1 - D(G(z))): flat where D wins
    return mean(softplus(neg(v_fake)));                    // -E log D(G(z))
  }
  // With the Bayes-optimal D, V(G, D) = -d_loss = 2 JSD - log 4 (Goodfellow 2014, Thm 1).
  double divergence_raw(const Var& v_real, const Var& v_fake) const override {
    if (smoothing_ > 0) return RawOutputObjective::divergence_raw(v_real, v_fake);
    return std::log(2.0) - 0.5 * d_loss_raw(v_real, v_fake).data().item();
  }

 private:
  std::string name_;
  bool saturating_;
  double smoothing_ = 0;
};

// ---- f-GAN (Nowozin 2016) ---------------------------------------------------------------

class FGan : public RawOutputObjective {
 public:
  FGan(const std::string& div_name, const ObjectiveOptions& o) {
    std::string name = "f-gan:" + div_name;
    if (div_name == "jensen-shannon-weighted") check_options(name, o, {"pi"}, {"generator_loss"});
    else check_options(name, o, {}, {"generator_loss"});
    div_ = make_divergence(div_name, o.get("pi", 0.5));
    std::string g = o.get("generator_loss", default_generator_loss(div_name));
    if (g != "alternative" && g != "saturating")
      throw ValueError(name + ": generator_loss must be 'alternative' or 'saturating', got '" + g + "'");
    alternative_ = g == "alternative";
  }
  std::string name() const override { return "f-gan:" + div_.name; }
  // At the optimal critic T* = f'(p/q) the saturating loss -E_Q f*(T*) has the gradient of
  // D_f(P||Q) itself (envelope theorem), the alternative -E_Q T* that of another divergence
  // (kl: KL(Q||P), the reverse one; python/cgan/losses.py lists every row). So the default is
  // the saturating loss, except for the rows whose saturating loss is the minimax game
  // (gan, jensen-shannon, jensen-shannon-weighted): there the alternative is Goodfellow's
  // non-saturating loss, which minimises KL(Q||P) - 2 JSD (Arjovsky & Bottou 2017).
  static std::string default_generator_loss(const std::string& div) {
    bool minimax_like = div == "gan" || div == "jensen-shannon" || div == "jensen-shannon-weighted";
    return minimax_like ? "alternative" : "saturating";
  }
  // F(T) = E_P[g_f(v)] - E_Q[f*(g_f(v))] <= D_f(P||Q); D maximises it.
  Var d_loss_raw(const Var& v_real, const Var& v_fake) const override {
    return neg(variational_bound(v_real, v_fake));
  }
  // saturating: min -E_Q f*(g_f(v)) (G plays the saddle point of F); alternative
  // (Nowozin Sec. 3.2, as Goodfellow's non-saturating trick): max E_Q g_f(v).
  Var g_loss_raw(const Var& v_fake) const override {
    if (alternative_) return neg(mean(div_.activation(v_fake)));
    return neg(mean(div_.conjugate_of_activation(v_fake)));
  }
  double divergence_raw(const Var& v_real, const Var& v_fake) const override {
    return variational_bound(v_real, v_fake).data().item();
  }

 private:
  Var variational_bound(const Var& v_real, const Var& v_fake) const {
    return sub(mean(div_.activation(v_real)), mean(div_.conjugate_of_activation(v_fake)));
  }
  FDivergence div_;
  bool alternative_ = true;
};

// ---- LSGAN (Mao 2017): least squares with targets a (fake), b (real), c (G's wish) -------

class LsGan : public RawOutputObjective {
 public:
  explicit LsGan(const ObjectiveOptions& o) {
    check_options("lsgan", o, {"a", "b", "c"});
    a_ = o.get("a", 0.0), b_ = o.get("b", 1.0), c_ = o.get("c", 1.0);
    require("lsgan", "b", b_, a_ != b_, "different from a");
  }
  std::string name() const override { return "lsgan"; }
  Var d_loss_raw(const Var& v_real, const Var& v_fake) const override {
    return add(mul(mean(square(sub(v_real, b_))), 0.5), mul(mean(square(sub(v_fake, a_))), 0.5));
  }
  Var g_loss_raw(const Var& v_fake) const override {
    return mul(mean(square(sub(v_fake, c_))), 0.5);
  }

 private:
  double a_, b_, c_;
};

// ---- WGAN (Arjovsky 2017): critic in a clipped (hence Lipschitz) family ------------------

class WGan : public RawOutputObjective {
 public:
  explicit WGan(const ObjectiveOptions& o) {
    check_options("wgan", o, {"clip"});
    clip_ = o.get("clip", 0.01);
    require("wgan", "clip", clip_, clip_ > 0, "positive");  // finite: check_options
  }
  std::string name() const override { return "wgan"; }
  Var d_loss_raw(const Var& v_real, const Var& v_fake) const override {
    return sub(mean(v_fake), mean(v_real));
  }
  Var g_loss_raw(const Var& v_fake) const override { return neg(mean(v_fake)); }
  // E_P f - E_Q f: W1 up to the Lipschitz constant the clipping allows.
  double divergence_raw(const Var& v_real, const Var& v_fake) const override {
    return -d_loss_raw(v_real, v_fake).data().item();
  }
  void after_d_step(nn::Module& D) const override { optim::clip_(D.parameters(), clip_); }
  // Arjovsky 2017, Algorithm 1: RMSProp, lr 5e-5 (momentum-based methods were unstable).
  OptimizerDefaults default_optimizer(bool) const override { return {"rmsprop", 5e-5, 0.5, 0.999}; }

 private:
  double clip_;
};

// ---- hinge (Lim & Ye 2017; Miyato 2018) -------------------------------------------------

class Hinge : public RawOutputObjective {
 public:
  explicit Hinge(const ObjectiveOptions& o) { check_options("hinge", o, {}); }
  std::string name() const override { return "hinge"; }
  Var d_loss_raw(const Var& v_real, const Var& v_fake) const override {
    return add(mean(relu(rsub(1.0, v_real))), mean(relu(add(v_fake, 1.0))));
  }
  Var g_loss_raw(const Var& v_fake) const override { return neg(mean(v_fake)); }
  // Miyato et al. 2018's hinge-loss runs: Adam 2e-4, betas (0, 0.9) (and 5 critic steps).
  OptimizerDefaults default_optimizer(bool) const override { return {"adam", 2e-4, 0.0, 0.9}; }
};

const std::vector<std::pair<std::string, std::string>> kAliases = {
    {"mmgan", "minimax"}, {"nsgan", "non-saturating"}};

}  // namespace

std::vector<std::string> available_objectives() {
  std::vector<std::string> names = {"minimax", "non-saturating"};
  for (auto& d : divergence_names()) names.push_back("f-gan:" + d);
  for (auto n : {"lsgan", "wgan", "wgan-gp", "dragan", "hinge", "ebgan", "loss-sensitive"})
    names.push_back(n);
  return names;
}

namespace {

std::unique_ptr<Objective> make_base_objective(const std::string& name_in, const ObjectiveOptions& o) {
  std::string name = name_in;
  for (auto& [alias, canonical] : kAliases)
    if (name == alias) name = canonical;
  if (name == "minimax") return std::make_unique<CrossEntropyGan>(name, true, o);
  if (name == "non-saturating") return std::make_unique<CrossEntropyGan>(name, false, o);
  if (name.rfind("f-gan:", 0) == 0) {
    std::string div = name.substr(6);
    for (auto& d : divergence_names())
      if (d == div) return std::make_unique<FGan>(div, o);
  }
  if (name == "lsgan") return std::make_unique<LsGan>(o);
  if (name == "wgan") return std::make_unique<WGan>(o);
  if (name == "wgan-gp") return make_wgan_gp(o);
  if (name == "dragan") return make_dragan(o);
  if (name == "hinge") return std::make_unique<Hinge>(o);
  if (name == "ebgan") return make_ebgan(o);
  if (name == "loss-sensitive") return make_loss_sensitive(o);
  std::string msg = "unknown loss '" + name_in + "'; accepted:";
  for (auto& n : available_objectives()) msg += " " + n;
  for (auto& [alias, canonical] : kAliases) msg += " " + alias;
  throw ValueError(msg);
}

}  // namespace

std::shared_ptr<Objective> make_objective(const std::string& name, const ObjectiveOptions& o) {
  ObjectiveOptions rest = o;
  Regularization r = take_common_options(name, rest);
  return regularize(make_base_objective(name, rest), r);
}

}  // namespace cgan::gan
