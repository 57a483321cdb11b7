// The Python module cgan._core. Each bind_*.cpp file exposes one layer.
#include "convert.hpp"

#ifndef CGAN_VERSION
#define CGAN_VERSION "dev"
#endif

PYBIND11_MODULE(_core, m) {
  m.doc() = "cgan's C++ core: tensors, autograd, networks, optimizers, GAN objectives.";
  m.attr("__version__") = CGAN_VERSION;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const cgan::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const py::cast_error& e) {
      // pybind11 reports an argument it could not convert as RuntimeError; it is a TypeError.
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  cgan::bind::bind_tensor(m);
  cgan::bind::bind_norm(m);
  cgan::bind::bind_conv(m);
  cgan::bind::bind_nn(m);
  cgan::bind::bind_optim(m);
  cgan::bind::bind_gan(m);
  cgan::bind::bind_losses(m);
}
