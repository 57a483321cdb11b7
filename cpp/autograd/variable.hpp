// Var: a tensor in the graph. A Var that an op produced while gradients were wanted
// points to the Node that made it; the Node points to the op's inputs. Nodes never
// point to their own output (the engine hands the output to the rule at backward
// time), so the graph is a DAG of shared pointers with no reference cycles.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../tensor/tensor.hpp"

namespace cgan {

struct Node;

struct VarImpl {
  Tensor data;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;       // null for leaves and constants
  std::shared_ptr<VarImpl> grad;       // .grad of a leaf, filled by backward()
};

class Var {
 public:
  Var() = default;
  explicit Var(Tensor data, bool requires_grad = false);
  explicit Var(std::shared_ptr<VarImpl> impl) : p_(std::move(impl)) {}

  bool defined() const { return p_ != nullptr; }
  const Tensor& data() const { return p_->data; }
  Tensor& mutable_data() const { return p_->data; }
  const Shape& shape() const { return p_->data.shape(); }
  DType dtype() const { return p_->data.dtype(); }
  int64_t numel() const { return p_->data.numel(); }
  bool requires_grad() const { return p_->requires_grad; }
  void set_requires_grad(bool r);
  bool is_leaf() const { return p_->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return p_->grad_fn; }
  Var grad() const { return p_->grad ? Var(p_->grad) : Var(); }
  void set_grad(const Var& g) { p_->grad = g.p_; }
  // The same values, cut from the graph (shares storage).
  Var detach() const { return Var(p_->data, false); }
  VarImpl* impl() const { return p_.get(); }
  const std::shared_ptr<VarImpl>& shared() const { return p_; }

 private:
  std::shared_ptr<VarImpl> p_;
};

// What a backward rule sees: the gradient of the op's output, the output itself and
// the op's inputs, and which inputs need a gradient (skip the others' work).
struct BackwardCtx {
  const Var& grad_out;
  const Var& out;
  const std::vector<Var>& in;
  const std::vector<bool>& needs;
};
// Returns one gradient per input (an undefined Var where not needed). Rules are
// written with the differentiable ops, so that they can be differentiated again.
using BackwardFn = std::function<std::vector<Var>(const BackwardCtx&)>;

struct Node {
  const char* name;
  std::vector<Var> inputs;  // the saved tensors of the op live here and in `backward`
  BackwardFn backward;
  bool released = false;    // set once backward ran without retain_graph
};

// ---- grad mode ------------------------------------------------------------------------

bool grad_enabled();
void set_grad_enabled(bool on);

// RAII: no graph is recorded in its scope (inference, optimizer steps).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;
 private:
  bool prev_;
};

class GradModeGuard {
 public:
  explicit GradModeGuard(bool on) : prev_(grad_enabled()) { set_grad_enabled(on); }
  ~GradModeGuard() { set_grad_enabled(prev_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;
 private:
  bool prev_;
};

// The op's result as a Var: recorded with its rule when grad mode is on and some
// input requires grad, a constant otherwise.
Var record(const char* name, Tensor out, std::vector<Var> inputs, BackwardFn backward);

}  // namespace cgan
