#include "variable.hpp"

namespace cgan {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }

Var::Var(Tensor data, bool requires_grad) : p_(std::make_shared<VarImpl>()) {
  p_->data = std::move(data);
  p_->requires_grad = requires_grad;
}

void Var::set_requires_grad(bool r) {
  if (!is_leaf())
    throw ValueError("requires_grad can only be changed on a leaf tensor (one no op produced); "
                     "use detach() first");
  p_->requires_grad = r;
}

Var record(const char* name, Tensor out, std::vector<Var> inputs, BackwardFn backward) {
  bool any = false;
  if (grad_enabled())
    for (const Var& v : inputs) any |= v.defined() && v.requires_grad();
  Var result(std::move(out), any);
  if (any) {
    auto node = std::make_shared<Node>();
    node->name = name;
    node->inputs = std::move(inputs);
    node->backward = std::move(backward);
    result.impl()->grad_fn = std::move(node);
  }
  return result;
}

}  // namespace cgan
