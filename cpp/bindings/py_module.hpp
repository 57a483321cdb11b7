// Modules written in Python: `class MyD(cgan.nn.Module)` with forward(self, x). The
// trampoline below is the C++ Module that forwards to the Python methods, so a Python
// module works wherever a built-in one does (Sequential, GAN.fit, state dicts, modes).
// Attributes that are modules or parameters (leaf Tensors with requires_grad) register
// themselves on assignment, as in PyTorch.
#pragma once
#include <pybind11/trampoline_self_life_support.h>

#include "convert.hpp"
#include "nn/module.hpp"

namespace cgan::bind {

class PyModule : public nn::Module, public py::trampoline_self_life_support {
 public:
  Var forward(const Var& x) override;
  std::string type_name() const override;
  // {"type": "Python", "class": "package.module:Class", "config": get_config() or null}
  nn::Config config() const override;
  // The Python out_shape(in_shape) when the class defines one, else a dry run of forward
  // on a zero batch (no graph, no running state moves).
  Shape out_shape(const Shape& in) const override;
  nn::NamedModules children() const override { return children_; }
  nn::Named own_parameters() const override { return params_; }
  nn::Named own_buffers() const override { return buffers_; }

  // Called by __setattr__: registers (or unregisters) a child module or parameter.
  void on_setattr(const std::string& name, py::handle value);
  void register_buffer(const std::string& name, const Var& value);

 private:
  py::object self() const;
  nn::NamedModules children_;
  nn::Named params_, buffers_;
};

// Config <-> plain Python values (dict, list, str, int, float, bool, None).
py::object config_to_python(const nn::Config& c);
nn::Config config_from_python(py::handle h);

// Installs the registry's factory for "Python" configs (imports the class, calls it).
void install_python_module_factory();

}  // namespace cgan::bind
