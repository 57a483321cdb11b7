// Techniques that add a term to the discriminator's loss of any objective: the R1 / R2
// zero-centred gradient penalties (Mescheder et al. 2018) and the CT-GAN consistency
// term (Wei et al. 2018). make_objective wraps the objective in a Regularized decorator
// when one of their options is given a positive value.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "objective.hpp"

namespace cgan::gan {

// The options every objective accepts (r1, r2, consistency, ct_margin), in message order.
const std::vector<std::string>& common_option_keys();

struct Regularization {
  double r1 = 0, r2 = 0;          // gamma of R1 (real data) and R2 (fakes)
  double consistency = 0;         // lambda of the consistency term
  double ct_margin = 0.2;         // M' (Wei et al. 2018, Sec. 4)
  bool any() const { return r1 > 0 || r2 > 0 || consistency > 0; }
};

// Moves the common options out of `o` into a Regularization (ValueError naming the option
// for a string, a bool, a negative value, or ct_margin without consistency).
Regularization take_common_options(const std::string& objective, ObjectiveOptions& o);

// inner with the regularizers' terms added to its discriminator loss; everything else
// (generator loss, constraint, optimizer, name) is inner's. inner itself when r has no term.
std::shared_ptr<Objective> regularize(std::shared_ptr<Objective> inner, const Regularization& r);

// An objective built elsewhere (one written in Python) with the common options in `o`
// applied, as make_objective applies them to a built-in one. ValueError for any other
// option (naming the closest common one): such an objective's own settings belong to it.
std::shared_ptr<Objective> with_common_options(std::shared_ptr<Objective> inner, ObjectiveOptions o);

// The name of `names` closest to `word` (Levenshtein distance; the first on a tie), for
// "did you mean" messages. names must not be empty.
std::string closest_name(const std::string& word, const std::vector<std::string>& names);

// (gamma / 2) E ||grad_x s(x)||^2, per-sample squared norm over every non-batch axis, s the
// objective's per-sample score of D (objective.score); differentiable w.r.t. D's
// parameters (double backward). x is a constant batch.
Var zero_centred_penalty(const Objective& obj, nn::Module& D, const Tensor& x);

// E max(0, d(D(x'), D(x'')) + 0.1 d(D_(x'), D_(x'')) - margin): x', x'' two dropout
// forwards of D on x (dropout drawn from rng); D_ the penultimate features when D is a
// Sequential, else the term of the output only. ValueError when D has no active dropout.
Var consistency_term(nn::Module& D, const Var& x, double margin, Rng& rng);

}  // namespace cgan::gan
