#include "module.hpp"

namespace cgan::nn {

// ---- forward context ------------------------------------------------------------------------

namespace {
thread_local bool t_frozen = false;
thread_local Rng* t_rng = nullptr;
thread_local ops::Indices t_labels;
}  // namespace

const ops::Indices& forward_labels() { return t_labels; }
LabelScope::LabelScope(ops::Indices labels) : prev_(std::move(t_labels)) { t_labels = std::move(labels); }
LabelScope::~LabelScope() { t_labels = std::move(prev_); }

bool running_state_frozen() { return t_frozen; }
FreezeRunningState::FreezeRunningState() : prev_(t_frozen) { t_frozen = true; }
FreezeRunningState::~FreezeRunningState() { t_frozen = prev_; }

Rng* forward_rng() { return t_rng; }
ForwardRngScope::ForwardRngScope(Rng* rng) : prev_(t_rng) { t_rng = rng; }
ForwardRngScope::~ForwardRngScope() { t_rng = prev_; }

// ---- Module --------------------------------------------------------------------------------

Named Module::named_parameters() const {
  Named out = own_parameters();
  for (auto& [name, child] : children())
    for (auto& [n, p] : child->named_parameters()) out.emplace_back(name + "." + n, p);
  return out;
}

Named Module::named_buffers() const {
  Named out = own_buffers();
  for (auto& [name, child] : children())
    for (auto& [n, b] : child->named_buffers()) out.emplace_back(name + "." + n, b);
  return out;
}

Named Module::named_state() const {
  Named out = own_parameters();
  for (auto& b : own_buffers()) out.push_back(b);
  for (auto& [name, child] : children())
    for (auto& [n, v] : child->named_state()) out.emplace_back(name + "." + n, v);
  return out;
}

std::vector<Var> Module::parameters() const {
  // A layer used twice (weight sharing) lists its parameters twice in
  // named_parameters(); optimizers must update shared weights once, as in PyTorch.
  std::vector<Var> out;
  for (auto& [n, p] : named_parameters()) {
    bool seen = false;
    for (const Var& q : out) seen |= q.impl() == p.impl();
    if (!seen) out.push_back(p);
  }
  return out;
}

void Module::set_training(bool on) {
  training_ = on;
  for (auto& [n, child] : children()) child->set_training(on);
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

std::string batch_shape_str(const Shape& sample) {
  std::string s = "(N";
  for (int64_t d : sample) s += ", " + std::to_string(d);
  return s + ")";
}

Shape sample_shape(const Shape& batch_shape, const std::string& who) {
  if (batch_shape.empty())
    throw ValueError(who + " expects a batch (N, ...), got a 0-d tensor");
  return Shape(batch_shape.begin() + 1, batch_shape.end());
}

void check_input(const Module& m, const Shape& batch_shape) {
  m.out_shape(sample_shape(batch_shape, m.type_name()));
}

// ---- Sequential ------------------------------------------------------------------------------

namespace {
std::string layer_label(size_t i, const Module& m) {
  return "Sequential layer " + std::to_string(i) + " (" + m.type_name() + ")";
}
}  // namespace

Sequential::Sequential(std::vector<ModulePtr> layers) : layers_(std::move(layers)) {
  for (auto& l : layers_)
    if (!l) throw ValueError("Sequential: a layer is None");
  // Propagate the shape from the first layer that fixes one; a layer that cannot take
  // what the layer before it gives is a construction error, not a forward-time one.
  std::optional<Shape> shape;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (!shape) shape = layers_[i]->in_shape();
    if (!shape) continue;
    try {
      shape = layers_[i]->out_shape(*shape);
    } catch (const ValueError& e) {
      throw ValueError(layer_label(i, *layers_[i]) + ": " + e.what());
    }
  }
}

Var Sequential::forward(const Var& x) { return forward_until(x, layers_.size()); }

Var Sequential::forward_until(const Var& x, size_t end) { return forward_range(x, 0, end); }

Var Sequential::forward_range(const Var& x, size_t begin, size_t end) {
  Var h = x;
  for (size_t i = begin; i < end && i < layers_.size(); ++i) h = layers_[i]->forward(h);
  return h;
}

Shape Sequential::out_shape(const Shape& in) const {
  Shape s = in;
  for (size_t i = 0; i < layers_.size(); ++i) {
    try {
      s = layers_[i]->out_shape(s);
    } catch (const ValueError& e) {
      throw ValueError(layer_label(i, *layers_[i]) + ": " + e.what());
    }
  }
  return s;
}

std::optional<Shape> Sequential::in_shape() const {
  // The first layer that fixes a shape fixes the whole chain's input only when the
  // layers before it accept anything and keep the shape (activations, dropout).
  for (auto& l : layers_) {
    if (auto s = l->in_shape()) return s;
    if (l->type_name() != "Activation" && l->type_name() != "Dropout") return std::nullopt;
  }
  return std::nullopt;
}

NamedModules Sequential::children() const {
  NamedModules out;
  for (size_t i = 0; i < layers_.size(); ++i) out.emplace_back(std::to_string(i), layers_[i]);
  return out;
}

Config Sequential::config() const {
  Config::List layers;
  for (auto& l : layers_) layers.push_back(l->config());
  Config c;
  c.set("type", "Sequential");
  c.set("layers", Config(std::move(layers)));
  return c;
}

}  // namespace cgan::nn
