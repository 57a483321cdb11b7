#include "registry.hpp"

#include <map>

#include "activation.hpp"
#include "conditional.hpp"
#include "conv.hpp"
#include "linear.hpp"
#include "minibatch_discrimination.hpp"
#include "mlp.hpp"
#include "norm.hpp"
#include "reshape.hpp"
#include "spectral_norm.hpp"
#include "virtual_batch_norm.hpp"

namespace cgan::nn {

namespace {

// Products of sizes read from a config, refused past 2^40 elements: a config is data
// that may come from a damaged or hostile file.
int64_t checked_product(const std::vector<int64_t>& dims, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > (int64_t(1) << 40) / d))
      throw ValueError("config: '" + what + "' is negative or too large");
    n *= d;
  }
  return n;
}

Shape ints(const Config& c, const std::string& key) { return c.at(key).as_ints(key); }

std::optional<double> optional_number(const Config& c, const std::string& key) {
  if (!c.has(key) || c.at(key).is_null()) return std::nullopt;
  return c.at(key).as_number(key);
}

struct Entry {
  std::function<ModulePtr(const Config&, Rng&)> build;
  std::function<int64_t(const Config&)> count;  // parameters and buffers
};

int64_t conv_count(const Config& c, bool transposed) {
  ConvOptions o = conv_options(c, transposed);
  int64_t w = checked_product({o.in_channels, o.out_channels, o.kernel_size[0], o.kernel_size[1]}, "weight");
  return w + (o.bias ? o.out_channels : 0);
}

int64_t mlp_count(const Config& c) {
  std::vector<int64_t> widths{c.at("in_features").as_int("in_features")};
  for (int64_t h : ints(c, "hidden")) widths.push_back(h);
  widths.push_back(c.at("out_features").as_int("out_features"));
  bool sn = c.at("spectral_norm").as_bool("spectral_norm");
  int64_t n = 0;
  for (size_t i = 0; i + 1 < widths.size(); ++i)
    n += checked_product({widths[i], widths[i + 1]}, "widths") + widths[i + 1] * (sn ? 2 : 1);
  if (c.has("num_classes")) n += checked_product({c.at("num_classes").as_int("num_classes"), widths[1]}, "num_classes");
  return n;
}

template <class BN>
Entry batch_norm_entry() {
  return {[](const Config& c, Rng&) -> ModulePtr {
            return std::make_shared<BN>(c.at("num_features").as_int("num_features"), c.at("eps").as_number("eps"),
                                        c.at("momentum").as_number("momentum"), c.at("affine").as_bool("affine"));
          },
          [](const Config& c) {  // weight and bias when affine, running mean and var, the count
            int64_t n = checked_product({c.at("num_features").as_int("num_features")}, "num_features");
            return n * (c.at("affine").as_bool("affine") ? 4 : 2) + 1;
          }};
}

template <class VBN>
Entry virtual_batch_norm_entry() {
  return {[](const Config& c, Rng&) -> ModulePtr {
            return std::make_shared<VBN>(c.at("num_features").as_int("num_features"), c.at("eps").as_number("eps"));
          },
          [](const Config& c) {  // weight and bias
            return 2 * checked_product({c.at("num_features").as_int("num_features")}, "num_features");
          }};
}

const std::map<std::string, Entry>& table() {
  static const std::map<std::string, Entry> t = {
      {"Linear",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          return std::make_shared<Linear>(c.at("in_features").as_int("in_features"),
                                          c.at("out_features").as_int("out_features"),
                                          c.at("bias").as_bool("bias"), c.at("init").as_string("init"), rng);
        },
        [](const Config& c) {
          int64_t in = c.at("in_features").as_int("in_features"), out = c.at("out_features").as_int("out_features");
          return checked_product({in, out}, "in_features * out_features") +
                 (c.at("bias").as_bool("bias") ? out : 0);
        }}},
      {"Conv2d",
       {[](const Config& c, Rng& rng) -> ModulePtr { return std::make_shared<Conv2d>(conv_options(c, false), rng); },
        [](const Config& c) { return conv_count(c, false); }}},
      {"ConvTranspose2d",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          return std::make_shared<ConvTranspose2d>(conv_options(c, true), rng);
        },
        [](const Config& c) { return conv_count(c, true); }}},
      {"BatchNorm1d", batch_norm_entry<BatchNorm1d>()},
      {"BatchNorm2d", batch_norm_entry<BatchNorm2d>()},
      {"VirtualBatchNorm1d", virtual_batch_norm_entry<VirtualBatchNorm1d>()},
      {"VirtualBatchNorm2d", virtual_batch_norm_entry<VirtualBatchNorm2d>()},
      {"LayerNorm",
       {[](const Config& c, Rng&) -> ModulePtr {
          return std::make_shared<LayerNorm>(ints(c, "normalized_shape"), c.at("eps").as_number("eps"),
                                             c.at("elementwise_affine").as_bool("elementwise_affine"));
        },
        [](const Config& c) {
          int64_t n = checked_product(ints(c, "normalized_shape"), "normalized_shape");
          return c.at("elementwise_affine").as_bool("elementwise_affine") ? 2 * n : int64_t(0);
        }}},
      {"Activation",
       {[](const Config& c, Rng&) -> ModulePtr {
          return std::make_shared<Activation>(c.at("name").as_string("name"), optional_number(c, "param"));
        },
        [](const Config&) { return int64_t(0); }}},
      {"Dropout",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          return std::make_shared<Dropout>(c.at("p").as_number("p"), rng.next_u64());
        },
        [](const Config&) { return int64_t(0); }}},
      {"MinibatchDiscrimination",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          return std::make_shared<MinibatchDiscrimination>(c.at("in_features").as_int("in_features"),
                                                           c.at("num_kernels").as_int("num_kernels"),
                                                           c.at("kernel_dim").as_int("kernel_dim"), rng);
        },
        [](const Config& c) {
          return checked_product({c.at("in_features").as_int("in_features"), c.at("num_kernels").as_int("num_kernels"),
                                  c.at("kernel_dim").as_int("kernel_dim")}, "T");
        }}},
      {"Flatten",
       {[](const Config&, Rng&) -> ModulePtr { return std::make_shared<Flatten>(); },
        [](const Config&) { return int64_t(0); }}},
      {"Unflatten",
       {[](const Config& c, Rng&) -> ModulePtr {
          Shape s = ints(c, "shape");
          checked_product(s, "shape");
          return std::make_shared<Unflatten>(s);
        },
        [](const Config&) { return int64_t(0); }}},
      {"Upsample",
       {[](const Config& c, Rng&) -> ModulePtr {
          Shape s = ints(c, "scale_factor");
          if (s.size() != 2) throw ValueError("config: 'scale_factor' must be a pair of integers");
          return std::make_shared<Upsample>(s[0], s[1]);
        },
        [](const Config&) { return int64_t(0); }}},
      {"MLP",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          MLPOptions o;
          o.in_features = c.at("in_features").as_int("in_features");
          o.hidden = ints(c, "hidden");
          o.out_features = c.at("out_features").as_int("out_features");
          o.activation = c.at("activation").as_string("activation");
          o.out_activation = c.at("out_activation").as_string("out_activation");
          o.negative_slope = c.at("negative_slope").as_number("negative_slope");
          o.spectral_norm = c.at("spectral_norm").as_bool("spectral_norm");
          o.init = c.at("init").as_string("init");
          if (c.has("num_classes")) o.num_classes = c.at("num_classes").as_int("num_classes");
          mlp_count(c);  // size check before allocating
          return std::make_shared<MLP>(o, rng);
        },
        mlp_count}},
      {"Embedding",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          return std::make_shared<Embedding>(c.at("num_classes").as_int("num_classes"), c.at("dim").as_int("dim"), rng);
        },
        [](const Config& c) {
          return checked_product({c.at("num_classes").as_int("num_classes"), c.at("dim").as_int("dim")}, "embedding");
        }}},
      {"Conditional",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          auto body = std::dynamic_pointer_cast<Sequential>(from_config(c.at("module"), rng));
          if (!body) throw ValueError("config: a Conditional's module must be a Sequential or MLP");
          return std::make_shared<Conditional>(body, c.at("num_classes").as_int("num_classes"),
                                               c.at("mode").as_string("mode"), c.at("at").as_int("at"), rng);
        },
        [](const Config& c) {
          // The label table: (num_classes, width of the layer it meets).
          const auto& layers = c.at("module").at("layers").as_list("layers");
          bool projection = c.at("mode").as_string("mode") == "projection";
          int64_t at = c.at("at").as_int("at");
          if (layers.empty() || at < 1 || at > int64_t(layers.size()))
            throw ValueError("config: a Conditional's 'at' is outside its layers");
          const Config* layer = projection ? &layers.back() : &layers[size_t(at - 1)];
          while (layer->at("type").as_string("type") == "SpectralNorm") layer = &layer->at("module");
          std::string t = layer->at("type").as_string("type");
          int64_t width = t == "Linear" ? layer->at(projection ? "in_features" : "out_features").as_int("width")
                                        : layer->at("out_channels").as_int("width");
          return parameter_count(c.at("module")) +
                 checked_product({c.at("num_classes").as_int("num_classes"), width}, "label table");
        }}},
      {"Sequential",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          std::vector<ModulePtr> layers;
          for (const Config& l : c.at("layers").as_list("layers")) layers.push_back(from_config(l, rng));
          return std::make_shared<Sequential>(layers);
        },
        [](const Config& c) {
          int64_t n = 0;
          for (const Config& l : c.at("layers").as_list("layers")) n += parameter_count(l);
          return n;
        }}},
      {"SpectralNorm",
       {[](const Config& c, Rng& rng) -> ModulePtr {
          int64_t iters = c.at("power_iterations").as_int("power_iterations");
          if (iters < 1 || iters > 1000)
            throw ValueError("config: 'power_iterations' must be in [1, 1000], got " + std::to_string(iters));
          return std::make_shared<SpectralNorm>(from_config(c.at("module"), rng), int(iters), rng);
        },
        [](const Config& c) {
          const Config& inner = c.at("module");
          int64_t rows = 0;
          std::string t = inner.at("type").as_string("type");
          if (t == "Linear") rows = inner.at("out_features").as_int("out_features");
          else if (t == "Conv2d") rows = inner.at("out_channels").as_int("out_channels");
          else if (t == "ConvTranspose2d") rows = inner.at("in_channels").as_int("in_channels");
          return parameter_count(inner) + rows;
        }}},
  };
  return t;
}

ExternalFactory& external_factory() {
  static ExternalFactory f;
  return f;
}

const Entry& external_entry() {
  // A Python module's weights are counted by the module itself once built; before
  // that only its import path is known.
  static const Entry e{[](const Config& c, Rng& rng) -> ModulePtr {
                         if (!external_factory()) throw ValueError("config: no factory for Python modules");
                         return external_factory()(c, rng);
                       },
                       [](const Config&) { return int64_t(0); }};
  return e;
}

const Entry& entry(const Config& c) {
  const std::string& type = c.at("type").as_string("type");
  if (type == "Python") return external_entry();
  auto it = table().find(type);
  if (it == table().end()) {
    std::string known;
    for (auto& [k, v] : table()) known += (known.empty() ? "" : ", ") + k;
    throw ValueError("config: unknown module type '" + type + "'; known types: " + known);
  }
  return it->second;
}

}  // namespace

void set_external_factory(ExternalFactory f) { external_factory() = std::move(f); }

ModulePtr from_config(const Config& c, Rng& rng) { return entry(c).build(c, rng); }

int64_t parameter_count(const Config& c) { return entry(c).count(c); }

std::vector<std::string> module_types() {
  std::vector<std::string> out;
  for (auto& [k, v] : table()) out.push_back(k);
  return out;
}

}  // namespace cgan::nn
