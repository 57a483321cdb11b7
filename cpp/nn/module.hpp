// Modules: a forward function of Vars, named parameters and buffers (state that is
// saved but not trained: batch-norm statistics, spectral norm's u), child modules, a
// train/eval mode and a shape contract. Shapes here are per sample: a module maps a
// batch (N, *in) to (N, *out_shape(in)) and out_shape throws ValueError, naming the
// module, for an input it cannot take. Sequential checks its layers with it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../autograd/variable.hpp"
#include "../ops/index.hpp"
#include "../tensor/rng.hpp"
#include "config.hpp"

namespace cgan::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;
using Named = std::vector<std::pair<std::string, Var>>;
using NamedModules = std::vector<std::pair<std::string, ModulePtr>>;

// ---- forward context ------------------------------------------------------------------
// Running state (batch-norm statistics, spectral norm's power iteration) moves only in
// train-mode forwards outside a FreezeRunningState scope: the GAN freezes the network
// that is not being updated and the extra forward of a gradient penalty.
bool running_state_frozen();
class FreezeRunningState {
 public:
  FreezeRunningState();
  ~FreezeRunningState();
  FreezeRunningState(const FreezeRunningState&) = delete;
  FreezeRunningState& operator=(const FreezeRunningState&) = delete;
 private:
  bool prev_;
};

// The Rng that train-mode Dropout draws from: the GAN's own during its steps (so a
// seeded run is repeatable), otherwise the module's own.
Rng* forward_rng();
class ForwardRngScope {
 public:
  explicit ForwardRngScope(Rng* rng);
  ~ForwardRngScope();
  ForwardRngScope(const ForwardRngScope&) = delete;
  ForwardRngScope& operator=(const ForwardRngScope&) = delete;
 private:
  Rng* prev_;
};

// Class labels of the batch being forwarded, for conditional layers (conditional.hpp):
// set by the GAN around each step's forwards, or by calling a module with labels.
const ops::Indices& forward_labels();
class LabelScope {
 public:
  explicit LabelScope(ops::Indices labels);
  ~LabelScope();
  LabelScope(const LabelScope&) = delete;
  LabelScope& operator=(const LabelScope&) = delete;
 private:
  ops::Indices prev_;
};

// ---- Module ----------------------------------------------------------------------------

class Module {
 public:
  virtual ~Module() = default;
  virtual Var forward(const Var& x) = 0;
  virtual std::string type_name() const = 0;
  // Architecture: enough for from_config (registry.hpp) to rebuild the module.
  virtual Config config() const = 0;
  // Per-sample output shape for a per-sample input shape; ValueError naming the module
  // when the input does not fit.
  virtual Shape out_shape(const Shape& in) const = 0;
  // The per-sample input shape the module requires, when it fixes one (Linear: (in,)).
  virtual std::optional<Shape> in_shape() const { return std::nullopt; }

  virtual NamedModules children() const { return {}; }
  virtual Named own_parameters() const { return {}; }
  virtual Named own_buffers() const { return {}; }
  // Own entries first, then each child's under "<child name>.", as PyTorch names them.
  Named named_parameters() const;
  Named named_buffers() const;
  std::vector<Var> parameters() const;  // each parameter once, even when shared
  // Parameters and buffers in PyTorch's state_dict order: each module's own parameters,
  // then its own buffers, then its children's, depth first.
  Named named_state() const;

  // Train mode (the default) or eval mode, for this module and all its descendants.
  void set_training(bool on);
  bool training() const { return training_; }

  // Converts parameters and buffers to `dtype` in place (the Var handles stay the same,
  // so optimizers built earlier keep working).
  void to(DType dtype);
  DType dtype() const;

 protected:
  // Whether this forward may move running state (train mode, not frozen).
  bool updates_running_state() const { return training_ && !running_state_frozen(); }

 private:
  bool training_ = true;
};

// Layers applied in order; construction checks adjacent shapes where both are known.
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<ModulePtr> layers);
  Var forward(const Var& x) override;
  std::string type_name() const override { return "Sequential"; }
  Config config() const override;
  Shape out_shape(const Shape& in) const override;
  std::optional<Shape> in_shape() const override;
  NamedModules children() const override;
  const std::vector<ModulePtr>& layers() const { return layers_; }
  // Output of layers [0, end): e.g. an autoencoder's code.
  Var forward_until(const Var& x, size_t end);
  // Layers [begin, end) applied to h.
  Var forward_range(const Var& h, size_t begin, size_t end);
  // Replaces layer i (same parameters expected: spectral normalisation wraps in place).
  virtual void replace_layer(size_t i, ModulePtr layer) { layers_.at(i) = std::move(layer); }

 protected:
  std::vector<ModulePtr> layers_;
};

// "(N, 3, 28, 28)" for the per-sample shape (3, 28, 28): how errors name batch shapes.
std::string batch_shape_str(const Shape& sample);
// Per-sample shape of a batch; ValueError unless it has a batch axis.
Shape sample_shape(const Shape& batch_shape, const std::string& who);
// Throws ValueError naming `who` unless the module accepts a batch of this shape.
void check_input(const Module& m, const Shape& batch_shape);

}  // namespace cgan::nn
