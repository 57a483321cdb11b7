#include "module.hpp"

#include <charconv>
#include <cmath>

#include "../ops/ops.hpp"
#include "init.hpp"
#include "spectral_norm.hpp"

namespace cgan::nn {

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

namespace {
std::string json_num(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, res.ptr);
}
}  // namespace

// ---- Module --------------------------------------------------------------------------------

std::vector<Var> Module::parameters() const {
  // Fix: a layer used twice (weight sharing, e.g. Sequential(lin, act, lin)) lists its
  // parameters twice in named_parameters(); return each parameter once, as torch does,
  // so that optimizers do not update shared weights twice and counts are right.
  std::vector<Var> out;
  for (auto& [n, p] : named_parameters()) {
    bool seen = false;
    for (const Var& q : out) seen |= q.impl() == p.impl();
    if (!seen) out.push_back(p);
  }
  return out;
}

void Module::to(DType dtype) {
  auto convert = [dtype](const Var& v) {
    if (v.dtype() != dtype) v.mutable_data() = v.data().to(dtype);
    if (v.grad().defined() && v.grad().dtype() != dtype) const_cast<Var&>(v).set_grad(Var());
  };
  for (auto& [n, p] : named_parameters()) convert(p);
  for (auto& [n, b] : named_buffers()) convert(b);
}

DType Module::dtype() const {
  for (auto& [n, p] : named_parameters()) return p.dtype();
  return DType::f32;
}

// ---- Linear --------------------------------------------------------------------------------

Linear::Linear(int64_t in, int64_t out, bool bias, const std::string& init, Rng& rng)
    : in_(in), out_(out), init_(init) {
  if (in < 1 || out < 1)
    throw ValueError("Linear: in_features and out_features must be >= 1, got " +
                     std::to_string(in) + " and " + std::to_string(out));
  Tensor w = Tensor::empty({out, in}, DType::f32);
  Tensor b = bias ? Tensor::empty({out}, DType::f32) : Tensor();
  init_linear(w, bias ? &b : nullptr, init, rng);
  weight_ = Var(w, true);
  if (bias) bias_ = Var(b, true);
}

Var Linear::forward(const Var& x) { return ops::linear(x, weight_, bias_); }

std::string Linear::config() const {
  return "{\"type\": \"Linear\", \"in_features\": " + std::to_string(in_) +
         ", \"out_features\": " + std::to_string(out_) +
         ", \"bias\": " + (bias_.defined() ? "true" : "false") + ", \"init\": " + json_str(init_) + "}";
}

Named Linear::named_parameters() const {
  Named out{{"weight", weight_}};
  if (bias_.defined()) out.emplace_back("bias", bias_);
  return out;
}

// ---- Activation ------------------------------------------------------------------------------

bool Activation::is_name(const std::string& n) {
  return n == "relu" || n == "leaky_relu" || n == "tanh" || n == "sigmoid" || n == "elu" ||
         n == "softplus" || n == "identity";
}

Activation::Activation(const std::string& name, double param) : name_(name), param_(param) {
  if (!is_name(name))
    throw ValueError("unknown activation '" + name +
                     "'; expected one of relu, leaky_relu, tanh, sigmoid, elu, softplus, identity");
  if (param_ < 0) param_ = name == "leaky_relu" ? 0.2 : name == "elu" ? 1.0 : 0.0;
}

Var Activation::forward(const Var& x) {
  if (name_ == "relu") return ops::relu(x);
  if (name_ == "leaky_relu") return ops::leaky_relu(x, param_);
  if (name_ == "tanh") return ops::tanh(x);
  if (name_ == "sigmoid") return ops::sigmoid(x);
  if (name_ == "elu") return ops::elu(x, param_);
  if (name_ == "softplus") return ops::softplus(x);
  return x;
}

std::string Activation::config() const {
  return "{\"type\": \"Activation\", \"name\": " + json_str(name_) + ", \"param\": " +
         json_num(param_) + "}";
}

// ---- Sequential ------------------------------------------------------------------------------

Sequential::Sequential(std::vector<ModulePtr> layers) : layers_(std::move(layers)) {
  for (auto& l : layers_)
    if (!l) throw ValueError("Sequential: a layer is None");
  // Adjacent widths must agree where both are known.
  int64_t width = -1;
  for (size_t i = 0; i < layers_.size(); ++i) {
    int64_t in = layers_[i]->in_features();
    if (in >= 0 && width >= 0 && in != width)
      throw ValueError("Sequential: layer " + std::to_string(i) + " expects " + std::to_string(in) +
                       " features but the layer before it gives " + std::to_string(width));
    if (layers_[i]->out_features() >= 0) width = layers_[i]->out_features();
  }
}

Var Sequential::forward(const Var& x) { return forward_until(x, layers_.size()); }

Var Sequential::forward_until(const Var& x, size_t end) {
  Var h = x;
  for (size_t i = 0; i < end && i < layers_.size(); ++i) h = layers_[i]->forward(h);
  return h;
}

int64_t Sequential::in_features() const {
  for (auto& l : layers_)
    if (l->in_features() >= 0) return l->in_features();
  return -1;
}

int64_t Sequential::out_features() const {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it)
    if ((*it)->out_features() >= 0) return (*it)->out_features();
  return -1;
}

std::string Sequential::config() const {
  std::string s = "{\"type\": \"Sequential\", \"layers\": [";
  for (size_t i = 0; i < layers_.size(); ++i) s += (i ? ", " : "") + layers_[i]->config();
  return s + "]}";
}

Named Sequential::named_parameters() const {
  Named out;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (auto& [n, p] : layers_[i]->named_parameters()) out.emplace_back(std::to_string(i) + "." + n, p);
  return out;
}

Named Sequential::named_buffers() const {
  Named out;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (auto& [n, b] : layers_[i]->named_buffers()) out.emplace_back(std::to_string(i) + "." + n, b);
  return out;
}

// ---- MLP -------------------------------------------------------------------------------------

MLP::MLP(const MLPOptions& opt, Rng& rng) : opt_(opt) {
  if (opt.in_features < 1 || opt.out_features < 1)
    throw ValueError("MLP: in_features and out_features must be >= 1");
  for (int64_t h : opt.hidden)
    if (h < 1) throw ValueError("MLP: hidden widths must be >= 1, got " + std::to_string(h));
  if (!Activation::is_name(opt.activation))
    throw ValueError("MLP: unknown activation '" + opt.activation +
                     "'; expected one of relu, leaky_relu, tanh, sigmoid, elu, softplus, identity");
  if (!Activation::is_name(opt.out_activation))
    throw ValueError("MLP: unknown out_activation '" + opt.out_activation + "'");
  if (!is_init_scheme(opt.init)) throw ValueError("MLP: unknown init '" + opt.init + "'");
  std::vector<int64_t> widths{opt.in_features};
  widths.insert(widths.end(), opt.hidden.begin(), opt.hidden.end());
  widths.push_back(opt.out_features);
  double slope = opt.activation == "leaky_relu" ? opt.negative_slope : -1;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    auto lin = std::make_shared<Linear>(widths[i], widths[i + 1], true, opt.init, rng);
    if (opt.spectral_norm) layers_.push_back(std::make_shared<SpectralNorm>(lin, 1, rng));
    else layers_.push_back(lin);
    bool last = i + 2 == widths.size();
    if (!last) layers_.push_back(std::make_shared<Activation>(opt.activation, slope));
    else if (opt.out_activation != "identity")
      layers_.push_back(std::make_shared<Activation>(opt.out_activation));
  }
}

std::string MLP::config() const {
  std::string hidden = "[";
  for (size_t i = 0; i < opt_.hidden.size(); ++i) hidden += (i ? ", " : "") + std::to_string(opt_.hidden[i]);
  hidden += "]";
  return "{\"type\": \"MLP\", \"in_features\": " + std::to_string(opt_.in_features) +
         ", \"hidden\": " + hidden + ", \"out_features\": " + std::to_string(opt_.out_features) +
         ", \"activation\": " + json_str(opt_.activation) +
         ", \"out_activation\": " + json_str(opt_.out_activation) +
         ", \"negative_slope\": " + json_num(opt_.negative_slope) +
         ", \"spectral_norm\": " + (opt_.spectral_norm ? "true" : "false") +
         ", \"init\": " + json_str(opt_.init) + "}";
}

}  // namespace cgan::nn
