#include "py_module.hpp"

#include "nn/registry.hpp"

namespace cgan::bind {

using nn::Config;

namespace {
std::string type_of(py::handle h) { return py::str(py::type::of(h).attr("__name__")).cast<std::string>(); }

template <class Entries, class V>
void put(Entries& entries, const std::string& name, V value) {
  for (auto& [n, v] : entries)
    if (n == name) {
      v = std::move(value);
      return;
    }
  entries.emplace_back(name, std::move(value));
}

template <class Entries>
void erase(Entries& entries, const std::string& name) {
  for (auto it = entries.begin(); it != entries.end(); ++it)
    if (it->first == name) {
      entries.erase(it);
      return;
    }
}
}  // namespace

// ---- Config <-> Python ------------------------------------------------------------------------

py::object config_to_python(const Config& c) {
  if (c.is_null()) return py::none();
  if (c.is_bool()) return py::bool_(c.as_bool(""));
  if (c.is_int()) return py::int_(c.as_int(""));
  if (c.is_number()) return py::float_(c.as_number(""));
  if (c.is_string()) return py::str(c.as_string(""));
  if (c.is_list()) {
    py::list l;
    for (auto& x : c.as_list("")) l.append(config_to_python(x));
    return std::move(l);
  }
  py::dict d;
  for (auto& [k, v] : c.as_object("")) d[py::str(k)] = config_to_python(v);
  return std::move(d);
}

namespace {
Config from_python(py::handle h, int depth) {
  if (depth > 64) throw ValueError("config: nested too deeply");
  if (h.is_none()) return Config();
  if (py::isinstance<py::bool_>(h)) return Config(h.cast<bool>());
  if (py::isinstance<py::int_>(h)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    if (overflow) throw ValueError("config: integer out of range: " + py::repr(h).cast<std::string>());
    return Config(int64_t(v));
  }
  if (py::isinstance<py::float_>(h)) return Config(h.cast<double>());
  if (py::isinstance<py::str>(h)) return Config(h.cast<std::string>());
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    Config::List l;
    for (py::handle x : h) l.push_back(from_python(x, depth + 1));
    return Config(std::move(l));
  }
  if (py::isinstance<py::dict>(h)) {
    Config c = Config(Config::Object{});
    for (auto item : py::reinterpret_borrow<py::dict>(h)) {
      if (!py::isinstance<py::str>(item.first)) throw ValueError("config: keys must be strings");
      c.set(item.first.cast<std::string>(), from_python(item.second, depth + 1));
    }
    return c;
  }
  throw TypeError("config: unsupported value of type " + type_of(h));
}
}  // namespace

Config config_from_python(py::handle h) { return from_python(h, 0); }

// ---- PyModule ---------------------------------------------------------------------------------

py::object PyModule::self() const {
  const nn::Module* base = this;
  auto* ti = py::detail::get_type_info(typeid(nn::Module));
  return py::reinterpret_borrow<py::object>(py::detail::get_object_handle(base, ti));
}

Var PyModule::forward(const Var& x) { PYBIND11_OVERRIDE_PURE(Var, nn::Module, forward, x); }

std::string PyModule::type_name() const {
  py::gil_scoped_acquire gil;
  return py::str(py::type::of(self()).attr("__name__")).cast<std::string>();
}

Config PyModule::config() const {
  py::gil_scoped_acquire gil;
  py::object me = self();
  py::handle cls = py::type::of(me);
  Config c;
  c.set("type", "Python");
  c.set("class", py::str(cls.attr("__module__")).cast<std::string>() + ":" +
                     py::str(cls.attr("__qualname__")).cast<std::string>());
  c.set("config", py::hasattr(me, "get_config") ? config_from_python(me.attr("get_config")()) : Config());
  return c;
}

Shape PyModule::out_shape(const Shape& in) const {
  py::gil_scoped_acquire gil;
  py::function f = py::get_override(static_cast<const nn::Module*>(this), "out_shape");
  if (f) {
    std::vector<int64_t> out = f(py::tuple(py::cast(in))).cast<std::vector<int64_t>>();
    return Shape(out.begin(), out.end());
  }
  Shape batch{2};
  batch.insert(batch.end(), in.begin(), in.end());
  try {
    NoGradGuard no_grad;
    nn::FreezeRunningState frozen;
    Var y = const_cast<PyModule*>(this)->forward(Var(Tensor::zeros(batch, dtype())));
    return nn::sample_shape(y.shape(), type_name());
  } catch (py::error_already_set& e) {
    throw ValueError(type_name() + " cannot take input " + nn::batch_shape_str(in) + ": " + e.what());
  } catch (const ValueError& e) {
    throw ValueError(type_name() + " cannot take input " + nn::batch_shape_str(in) + ": " + e.what());
  }
}

void PyModule::on_setattr(const std::string& name, py::handle value) {
  erase(children_, name);
  erase(params_, name);
  erase(buffers_, name);
  if (py::isinstance<nn::Module>(value)) {
    put(children_, name, value.cast<nn::ModulePtr>());
  } else if (py::isinstance<Var>(value)) {
    Var v = value.cast<Var>();
    if (v.requires_grad() && v.is_leaf()) put(params_, name, v);
  }
}

void PyModule::register_buffer(const std::string& name, const Var& value) {
  erase(children_, name);
  erase(params_, name);
  put(buffers_, name, value.detach());
}

void install_python_module_factory() {
  nn::set_external_factory([](const Config& c, Rng& rng) -> nn::ModulePtr {
    py::gil_scoped_acquire gil;
    std::string path = c.at("class").as_string("class");
    auto colon = path.find(':');
    if (colon == std::string::npos) throw ValueError("config: 'class' must be 'module:QualName', got '" + path + "'");
    py::object cls = py::module_::import(path.substr(0, colon).c_str());
    std::string qual = path.substr(colon + 1);
    for (size_t start = 0; start <= qual.size();) {
      size_t dot = qual.find('.', start);
      cls = cls.attr(qual.substr(start, dot - start).c_str());
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const Config& kwargs = c.has("config") ? c.at("config") : Config();
    py::object m = kwargs.is_null() ? cls() : cls(**py::dict(config_to_python(kwargs)));
    if (!py::isinstance<nn::Module>(m))
      throw TypeError("config: " + path + " did not build a cgan.nn.Module");
    return m.cast<nn::ModulePtr>();
  });
}

}  // namespace cgan::bind
