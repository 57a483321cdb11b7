// Reverse-mode differentiation over the recorded graph.
#pragma once
#include <vector>

#include "variable.hpp"

namespace cgan {

// Gradients of sum_i <outputs[i], grad_outputs[i]> with respect to each of `inputs`.
// A missing grad_output is 1 for a one-element output. With create_graph the result
// is itself recorded, so it can be differentiated again (double backward).
// retain_graph defaults to create_graph, as in PyTorch. An input the outputs do not
// depend on gets zeros when allow_unused, else ValueError.
std::vector<Var> grad(const std::vector<Var>& outputs, const std::vector<Var>& inputs,
                      const std::vector<Var>& grad_outputs = {}, bool create_graph = false,
                      int retain_graph = -1, bool allow_unused = false);

// Accumulates the gradient into .grad of every leaf that requires grad.
void backward(const std::vector<Var>& outputs, const std::vector<Var>& grad_outputs = {},
              bool create_graph = false, int retain_graph = -1);

}  // namespace cgan
