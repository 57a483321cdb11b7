// Error types of the core. The bindings translate them to Python exceptions:
// ValueError for a wrong value or shape, TypeError for a wrong kind of thing.
#pragma once
#include <stdexcept>
#include <string>

namespace cgan {

// A value, shape or state that the call cannot accept (-> ValueError).
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// An argument of the wrong kind, e.g. a dtype that cannot be used (-> TypeError).
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace cgan
