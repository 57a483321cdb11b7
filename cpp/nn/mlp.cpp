#include "mlp.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "activation.hpp"
#include "conditional.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "spectral_norm.hpp"

namespace cgan::nn {

MLP::MLP(const MLPOptions& opt, Rng& rng) : opt_(opt) {
  if (opt.in_features < 1 || opt.out_features < 1)
    throw ValueError("MLP: in_features and out_features must be >= 1, got " +
                     std::to_string(opt.in_features) + " and " + std::to_string(opt.out_features));
  for (int64_t h : opt.hidden)
    if (h < 1) throw ValueError("MLP: hidden widths must be >= 1, got " + std::to_string(h));
  if (!Activation::is_name(opt.activation))
    throw ValueError("MLP: unknown activation '" + opt.activation + "'; expected one of " +
                     Activation::names());
  if (!Activation::is_name(opt.out_activation))
    throw ValueError("MLP: unknown out_activation '" + opt.out_activation + "'; expected one of " +
                     Activation::names());
  if (!std::isfinite(opt.negative_slope))
    throw ValueError("MLP: negative_slope must be finite, got " + std::to_string(opt.negative_slope));
  if (!is_init_scheme(opt.init))
    throw ValueError("MLP: unknown init '" + opt.init + "'; expected one of " + init_schemes());
  if (opt.num_classes < 0) throw ValueError("MLP: num_classes must be >= 1 (or 0: unconditional)");
  std::vector<int64_t> widths{opt.in_features};
  widths.insert(widths.end(), opt.hidden.begin(), opt.hidden.end());
  widths.push_back(opt.out_features);
  auto hidden_param = [&](const std::string& name) -> std::optional<double> {
    if (name == "leaky_relu") return opt.negative_slope;
    return std::nullopt;
  };
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    auto lin = std::make_shared<Linear>(widths[i], widths[i + 1], true, opt.init, rng);
    if (opt.spectral_norm) layers_.push_back(std::make_shared<SpectralNorm>(lin, 1, rng));
    else layers_.push_back(lin);
    bool last = i + 2 == widths.size();
    if (!last) layers_.push_back(std::make_shared<Activation>(opt.activation, hidden_param(opt.activation)));
    else if (opt.out_activation != "identity")
      layers_.push_back(std::make_shared<Activation>(opt.out_activation));
  }
  if (opt.num_classes) {
    double bound = std::sqrt(6.0 / double(opt.num_classes + widths[1]));
    table_ = Var(rng.uniform({opt.num_classes, widths[1]}, DType::f32, -bound, bound), true);
  }
}

Var MLP::forward(const Var& x) {
  if (!opt_.num_classes) return Sequential::forward(x);
  Var h = forward_until(x, 1);
  h = ops::add(h, label_rows(table_, x.shape().empty() ? 0 : x.shape()[0], "MLP"));
  return forward_range(h, 1, layers_.size());
}

Named MLP::own_parameters() const {
  if (!opt_.num_classes) return {};
  return {{"embedding", table_}};
}

void MLP::replace_layer(size_t i, ModulePtr layer) {
  if (dynamic_cast<SpectralNorm*>(layer.get())) opt_.spectral_norm = true;
  Sequential::replace_layer(i, std::move(layer));
}

Config MLP::config() const {
  Config c;
  c.set("type", "MLP");
  c.set("in_features", opt_.in_features);
  c.set("hidden", Config::ints(opt_.hidden));
  c.set("out_features", opt_.out_features);
  c.set("activation", opt_.activation);
  c.set("out_activation", opt_.out_activation);
  c.set("negative_slope", opt_.negative_slope);
  c.set("spectral_norm", opt_.spectral_norm);
  c.set("init", opt_.init);
  if (opt_.num_classes) c.set("num_classes", opt_.num_classes);
  return c;
}

}  // namespace cgan::nn
