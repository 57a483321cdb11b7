// The one registry of module types: from_config rebuilds any module (nested containers
// included) from the Config its config() returns. GAN checkpoints, cgan.nn.from_config
// and the parameter count before loading a checkpoint all go through it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "module.hpp"

namespace cgan::nn {

// Fresh weights drawn from rng; ValueError for an unknown type (naming the known ones)
// or a malformed config.
ModulePtr from_config(const Config& config, Rng& rng);
std::vector<std::string> module_types();
// Modules defined outside the core (Python subclasses of cgan.nn.Module) have configs of
// type "Python"; the bindings install the function that rebuilds them.
using ExternalFactory = std::function<ModulePtr(const Config&, Rng&)>;
void set_external_factory(ExternalFactory f);
// Number of parameters the module described by `config` would have, without building
// it (so a checkpoint that lies about its architecture is refused before allocating).
int64_t parameter_count(const Config& config);

}  // namespace cgan::nn
