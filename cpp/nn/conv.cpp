#include "conv.hpp"

#include "init.hpp"

namespace cgan::nn {

namespace {

void check_options(const ConvOptions& o, const char* who, bool transposed) {
  auto bad = [who](const std::string& msg) { throw ValueError(std::string(who) + ": " + msg); };
  if (o.in_channels < 1 || o.out_channels < 1)
    bad("in_channels and out_channels must be >= 1, got " + std::to_string(o.in_channels) + " and " +
        std::to_string(o.out_channels));
  for (int i = 0; i < 2; ++i) {
    if (o.kernel_size[i] < 1) bad("kernel_size must be >= 1, got " + std::to_string(o.kernel_size[i]));
    if (o.geometry.stride[i] < 1) bad("stride must be >= 1, got " + std::to_string(o.geometry.stride[i]));
    if (o.geometry.padding[i] < 0)
      bad("padding must be >= 0, got " + std::to_string(o.geometry.padding[i]));
    int64_t op = o.geometry.output_padding[i];
    if (!transposed && op != 0) bad("output_padding is for ConvTranspose2d only");
    if (op < 0 || (op > 0 && op >= o.geometry.stride[i]))
      bad("output_padding must be >= 0 and smaller than the stride, got " + std::to_string(op));
  }
}

Shape weight_shape(const ConvOptions& o, bool transposed) {
  int64_t a = transposed ? o.in_channels : o.out_channels;
  int64_t b = transposed ? o.out_channels : o.in_channels;
  return {a, b, o.kernel_size[0], o.kernel_size[1]};
}

Config pair(const ops::Pair& p) { return Config::ints({p[0], p[1]}); }

ops::Pair read_pair(const Config& c, const std::string& key) {
  auto v = c.at(key).as_ints(key);
  if (v.size() != 2) throw ValueError("config: '" + key + "' must be a pair of integers");
  return {v[0], v[1]};
}

Config conv_config(const char* type, const ConvOptions& o, bool transposed) {
  Config c;
  c.set("type", type);
  c.set("in_channels", o.in_channels);
  c.set("out_channels", o.out_channels);
  c.set("kernel_size", pair(o.kernel_size));
  c.set("stride", pair(o.geometry.stride));
  c.set("padding", pair(o.geometry.padding));
  if (transposed) c.set("output_padding", pair(o.geometry.output_padding));
  c.set("bias", o.bias);
  c.set("init", o.init);
  return c;
}

}  // namespace

ConvOptions conv_options(const Config& c, bool transposed) {
  ConvOptions o;
  o.in_channels = c.at("in_channels").as_int("in_channels");
  o.out_channels = c.at("out_channels").as_int("out_channels");
  o.kernel_size = read_pair(c, "kernel_size");
  o.geometry.stride = read_pair(c, "stride");
  o.geometry.padding = read_pair(c, "padding");
  if (transposed) o.geometry.output_padding = read_pair(c, "output_padding");
  o.bias = c.at("bias").as_bool("bias");
  o.init = c.at("init").as_string("init");
  return o;
}

// ---- Conv2d ---------------------------------------------------------------------------------

Conv2d::Conv2d(const ConvOptions& o, Rng& rng)
    : Conv2d((check_options(o, "Conv2d", false), o), rng, weight_shape(o, false)) {}

// Options are checked by the public constructors, which know which kind they build.
Conv2d::Conv2d(const ConvOptions& o, Rng& rng, Shape wshape) : o_(o) {
  Tensor w = Tensor::empty(wshape, DType::f32);
  Tensor b = o.bias ? Tensor::empty({o.out_channels}, DType::f32) : Tensor();
  if (!is_init_scheme(o.init))
    throw ValueError("unknown init '" + o.init + "'; expected one of " + init_schemes());
  init_weight(w, o.bias ? &b : nullptr, o.init, rng);
  weight_ = Var(w, true);
  if (o.bias) bias_ = Var(b, true);
}

Var Conv2d::forward(const Var& x) { return forward_with_weight(x, weight_); }

Var Conv2d::forward_with_weight(const Var& x, const Var& w) {
  return ops::conv2d(x, w, bias_, o_.geometry);
}

Shape Conv2d::out_shape(const Shape& in) const {
  return ops::conv2d_out_shape(in, weight_.shape(), o_.geometry, "Conv2d");
}

Config Conv2d::config() const { return conv_config("Conv2d", o_, false); }

Named Conv2d::own_parameters() const {
  Named out{{"weight", weight_}};
  if (bias_.defined()) out.emplace_back("bias", bias_);
  return out;
}

// ---- ConvTranspose2d ------------------------------------------------------------------------

ConvTranspose2d::ConvTranspose2d(const ConvOptions& o, Rng& rng)
    : Conv2d((check_options(o, "ConvTranspose2d", true), o), rng, weight_shape(o, true)) {}

Var ConvTranspose2d::forward_with_weight(const Var& x, const Var& w) {
  return ops::conv_transpose2d(x, w, bias_, o_.geometry);
}

Shape ConvTranspose2d::out_shape(const Shape& in) const {
  return ops::conv_transpose2d_out_shape(in, weight_.shape(), o_.geometry, "ConvTranspose2d");
}

Config ConvTranspose2d::config() const { return conv_config("ConvTranspose2d", o_, true); }

}  // namespace cgan::nn
