#include "config.hpp"

#include <cmath>

#include "../tensor/errors.hpp"

namespace cgan::nn {

namespace {
[[noreturn]] void wrong(const std::string& what, const char* expected) {
  throw ValueError("config: '" + what + "' must be " + expected);
}
}  // namespace

Config Config::ints(const std::vector<int64_t>& v) {
  List l;
  for (int64_t x : v) l.emplace_back(x);
  return Config(std::move(l));
}

bool Config::as_bool(const std::string& what) const {
  if (!is_bool()) wrong(what, "true or false");
  return std::get<bool>(v_);
}

int64_t Config::as_int(const std::string& what) const {
  if (!is_int()) wrong(what, "an integer");
  return std::get<int64_t>(v_);
}

double Config::as_number(const std::string& what) const {
  if (is_int()) return double(std::get<int64_t>(v_));
  if (v_.index() != 3) wrong(what, "a number");
  return std::get<double>(v_);
}

const std::string& Config::as_string(const std::string& what) const {
  if (!is_string()) wrong(what, "a string");
  return std::get<std::string>(v_);
}

const Config::List& Config::as_list(const std::string& what) const {
  if (!is_list()) wrong(what, "a list");
  return std::get<List>(v_);
}

const Config::Object& Config::as_object(const std::string& what) const {
  if (!is_object()) wrong(what, "an object");
  return std::get<Object>(v_);
}

std::vector<int64_t> Config::as_ints(const std::string& what) const {
  std::vector<int64_t> out;
  for (const Config& c : as_list(what)) out.push_back(c.as_int(what));
  return out;
}

bool Config::has(const std::string& key) const {
  if (!is_object()) return false;
  for (auto& [k, v] : std::get<Object>(v_))
    if (k == key) return true;
  return false;
}

const Config& Config::at(const std::string& key) const {
  for (auto& [k, v] : as_object(key))
    if (k == key) return v;
  throw ValueError("config: missing key '" + key + "'");
}

Config& Config::set(const std::string& key, Config value) {
  if (is_null()) v_ = Object{};
  if (!is_object()) wrong(key, "set on an object");
  auto& o = std::get<Object>(v_);
  for (auto& [k, v] : o)
    if (k == key) return v = std::move(value);
  o.emplace_back(key, std::move(value));
  return o.back().second;
}

}  // namespace cgan::nn
