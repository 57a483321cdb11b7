// Config: a module's architecture as a JSON-like value (null, bool, int, number,
// string, list, object with ordered keys). Every module describes itself with one
// (Module::config) and the registry rebuilds it from one (registry.hpp); the bindings
// turn it into a Python dict, and checkpoints store it as JSON.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cgan::nn {

class Config {
 public:
  using List = std::vector<Config>;
  using Object = std::vector<std::pair<std::string, Config>>;

  Config() = default;  // null
  Config(bool b) : v_(b) {}
  Config(int v) : v_(int64_t(v)) {}
  Config(int64_t v) : v_(v) {}
  Config(double v) : v_(v) {}
  Config(const char* s) : v_(std::string(s)) {}
  Config(std::string s) : v_(std::move(s)) {}
  Config(List l) : v_(std::move(l)) {}
  Config(Object o) : v_(std::move(o)) {}
  static Config ints(const std::vector<int64_t>& v);

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_int() const { return v_.index() == 2; }
  bool is_number() const { return v_.index() == 2 || v_.index() == 3; }
  bool is_string() const { return v_.index() == 4; }
  bool is_list() const { return v_.index() == 5; }
  bool is_object() const { return v_.index() == 6; }

  // Typed reads: ValueError naming `what` when the value has another type.
  bool as_bool(const std::string& what) const;
  int64_t as_int(const std::string& what) const;
  double as_number(const std::string& what) const;
  const std::string& as_string(const std::string& what) const;
  const List& as_list(const std::string& what) const;
  const Object& as_object(const std::string& what) const;
  std::vector<int64_t> as_ints(const std::string& what) const;

  // Object access. `at` throws ValueError naming the key when it is missing.
  bool has(const std::string& key) const;
  const Config& at(const std::string& key) const;
  // Appends a key (objects only; builds one from null).
  Config& set(const std::string& key, Config value);

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, List, Object> v_;
};

}  // namespace cgan::nn
