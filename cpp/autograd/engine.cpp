#include "engine.hpp"

#include <unordered_map>

#include "../tensor/kernels.hpp"

namespace cgan {

namespace {

// a + b for two gradients of the same shape, recorded (rule: both get g) so that
// accumulated gradients stay differentiable under create_graph.
Var accumulate(const Var& a, const Var& b) {
  Tensor s = kernels::zip(a.data(), b.data(), [](auto x, auto y) { return x + y; }, "accumulate");
  return record("Accumulate", std::move(s), {a, b}, [](const BackwardCtx& c) {
    return std::vector<Var>{c.grad_out, c.grad_out};
  });
}

// The part of the graph behind `outputs`, in post-order (inputs before their users).
std::vector<Var> post_order(const std::vector<Var>& outputs) {
  std::vector<Var> order;
  std::unordered_map<VarImpl*, bool> seen;
  std::vector<std::pair<Var, size_t>> stack;  // (var, next input to visit)
  for (const Var& o : outputs) {
    if (!o.defined() || seen.count(o.impl())) continue;
    seen[o.impl()] = true;
    stack.emplace_back(o, 0);
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      const auto& fn = v.grad_fn();
      if (fn && next < fn->inputs.size()) {
        const Var& in = fn->inputs[next++];
        if (in.defined() && in.requires_grad() && !seen.count(in.impl())) {
          seen[in.impl()] = true;
          stack.emplace_back(in, 0);
        }
      } else {
        order.push_back(v);
        stack.pop_back();
      }
    }
  }
  return order;
}

struct Result {
  // Every var of the traversed graph, kept alive here: `grads` is keyed by raw pointers,
  // and releasing the nodes would otherwise free intermediate vars while they are keys.
  std::vector<Var> order;
  std::unordered_map<VarImpl*, Var> grads;
  const char* freed = nullptr;  // a released node that a gradient reached (grad() only)
};

[[noreturn]] void throw_freed(const char* op) {
  throw ValueError(std::string("backward through the graph a second time (op ") + op +
                   "): its saved tensors were freed; pass retain_graph=True the first time");
}

// Runs the rules from the outputs back to `targets` (or to every leaf needing grad).
Result run(const std::vector<Var>& outputs, const std::vector<Var>& grad_outputs,
           const std::vector<Var>* targets, bool create_graph, bool retain_graph) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw ValueError("grad: got " + std::to_string(grad_outputs.size()) + " grad_outputs for " +
                     std::to_string(outputs.size()) + " outputs");
  Result r;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Var& o = outputs[i];
    if (!o.defined() || !o.requires_grad())
      throw ValueError("grad: output " + std::to_string(i) +
                       " does not require grad (it was computed without any input that "
                       "requires grad, or under no_grad)");
    Var g = i < grad_outputs.size() ? grad_outputs[i] : Var();
    if (!g.defined()) {
      if (o.numel() != 1)
        throw ValueError("grad: grad_outputs must be given for an output of shape " +
                         shape_str(o.shape()) + " (only one-element outputs get 1 by default)");
      g = Var(Tensor::full(o.shape(), 1.0, o.dtype()));
    } else if (g.shape() != o.shape()) {
      throw ValueError("grad: grad_output of shape " + shape_str(g.shape()) +
                       " does not match output of shape " + shape_str(o.shape()));
    } else if (g.dtype() != o.dtype()) {
      g = Var(g.data().to(o.dtype()));
    }
    auto it = r.grads.find(o.impl());
    if (it == r.grads.end()) r.grads.emplace(o.impl(), g);
    else it->second = accumulate(it->second, g);
  }

  r.order = post_order(outputs);
  const std::vector<Var>& order = r.order;
  // needed: the var is a target or some target lies behind it.
  std::unordered_map<VarImpl*, bool> needed;
  std::unordered_map<VarImpl*, bool> is_target;
  if (targets)
    for (const Var& t : *targets) is_target[t.impl()] = true;
  for (const Var& v : order) {
    bool need = targets ? is_target.count(v.impl()) > 0 : (v.is_leaf() && v.requires_grad());
    if (const auto& fn = v.grad_fn()) {
      for (const Var& in : fn->inputs)
        if (in.defined() && in.requires_grad() && needed[in.impl()]) need = true;
      // A released node has lost its input edges, so what lies behind it is unknown:
      // let the gradient reach it, to be reported below.
      if (fn->released) need = true;
    }
    needed[v.impl()] = need;
  }

  GradModeGuard mode(create_graph);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Var& v = *it;
    const auto& fn = v.grad_fn();
    if (!fn || !needed[v.impl()]) continue;
    auto git = r.grads.find(v.impl());
    if (git == r.grads.end()) continue;
    // Reaching a released node is an error at once for backward() (every recorded node
    // has a leaf needing grad behind it); for grad() only if a target then goes
    // missing, since the targets may not lie behind this node.
    if (fn->released) {
      if (!targets) throw_freed(fn->name);
      r.freed = fn->name;
      continue;
    }
    std::vector<bool> needs(fn->inputs.size());
    bool any = false;
    for (size_t i = 0; i < needs.size(); ++i) {
      const Var& in = fn->inputs[i];
      needs[i] = in.defined() && in.requires_grad() && needed[in.impl()];
      any |= needs[i];
    }
    if (!any) continue;
    Var g = git->second;
    std::vector<Var> gs = fn->backward(BackwardCtx{g, v, fn->inputs, needs});
    for (size_t i = 0; i < needs.size(); ++i) {
      if (!needs[i] || i >= gs.size() || !gs[i].defined()) continue;
      const Var& in = fn->inputs[i];
      if (gs[i].shape() != in.shape())
        throw std::logic_error(std::string("internal: rule of ") + fn->name +
                               " returned a gradient of shape " + shape_str(gs[i].shape()) +
                               " for an input of shape " + shape_str(in.shape()));
      auto jt = r.grads.find(in.impl());
      if (jt == r.grads.end()) r.grads.emplace(in.impl(), gs[i]);
      else jt->second = accumulate(jt->second, gs[i]);
    }
  }

  if (!retain_graph) {
    // Free only the nodes this pass needed (as PyTorch frees only executed nodes): the
    // rest of the graph, e.g. a generator behind a critic loss differentiated for the
    // critic's parameters only, stays usable.
    for (const Var& v : order)
      if (const auto& fn = v.grad_fn(); fn && needed[v.impl()]) {
        fn->inputs.clear();
        fn->backward = nullptr;
        fn->released = true;
      }
  }
  return r;
}

}  // namespace

std::vector<Var> grad(const std::vector<Var>& outputs, const std::vector<Var>& inputs,
                      const std::vector<Var>& grad_outputs, bool create_graph, int retain_graph,
                      bool allow_unused) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined() || !inputs[i].requires_grad())
      throw ValueError("grad: input " + std::to_string(i) + " does not require grad");
  bool retain = retain_graph < 0 ? create_graph : retain_graph != 0;
  Result r = run(outputs, grad_outputs, &inputs, create_graph, retain);
  std::vector<Var> out;
  out.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = r.grads.find(inputs[i].impl());
    if (it != r.grads.end()) {
      out.push_back(it->second);
    } else if (r.freed) {
      throw_freed(r.freed);  // the input may lie behind the freed part: never guess 0
    } else if (allow_unused) {
      out.emplace_back(Tensor::zeros(inputs[i].shape(), inputs[i].dtype()));
    } else {
      throw ValueError("grad: input " + std::to_string(i) +
                       " was not used to compute the outputs (pass allow_unused=True for zeros)");
    }
  }
  return out;
}

void backward(const std::vector<Var>& outputs, const std::vector<Var>& grad_outputs,
              bool create_graph, int retain_graph) {
  bool retain = retain_graph < 0 ? create_graph : retain_graph != 0;
  Result r = run(outputs, grad_outputs, nullptr, create_graph, retain);
  for (auto& [impl, g] : r.grads) {
    if (impl->grad_fn || !impl->requires_grad) continue;
    if (!impl->grad) {
      // Own the storage: the rule's result may alias another gradient.
      impl->grad = create_graph ? g.shared() : Var(g.data().clone()).shared();
    } else if (create_graph) {
      impl->grad = accumulate(Var(impl->grad), g).shared();
    } else {
      // Add in place only into a .grad that this leaf alone holds. After create_graph the
      // stored gradient can be the very Var of another leaf's .grad or of the caller's
      // grad_outputs (the add rule passes g through), or a graph node: then sum into a
      // fresh copy so that the others keep their values.
      if (impl->grad.use_count() != 1 || impl->grad->grad_fn ||
          impl->grad->data.owner().use_count() != 1)
        impl->grad = Var(impl->grad->data.clone()).shared();
      Tensor& acc = impl->grad->data;
      dispatch(acc.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* a = acc.data<T>();
        Tensor gd = g.data().dtype() == acc.dtype() ? g.data() : g.data().to(acc.dtype());
        const T* b = gd.data<T>();
        for (int64_t i = 0; i < acc.numel(); ++i) a[i] += b[i];
      });
    }
  }
}

}  // namespace cgan
