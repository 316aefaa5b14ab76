#include "mcunet/float_model.h"

#include <nlohmann/json.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "mcunet/error.h"
#include "mcunet/search_space.h"  // Rng

namespace mcunet {

namespace {

using nlohmann::json;

// The layer list an Arch implies: name, in, out, kernel, stride, depthwise,
// has BatchNorm, ReLU6.
struct ExpectedLayer {
  std::string name;
  int in = 0, out = 0, kernel = 1, stride = 1;
  bool depthwise = false, bn = true, relu6 = true;
};

std::vector<ExpectedLayer> ExpectedLayers(const Arch& a) {
  std::vector<ExpectedLayer> v;
  v.push_back({"first_conv", a.in_channels, a.first_conv.out_channels, a.first_conv.kernel,
               a.first_conv.stride, false, true, true});
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    const MBBlock& b = a.blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    if (b.has_expand()) v.push_back({p + "expand", b.in_channels, b.mid_channels, 1, 1, false, true, true});
    v.push_back({p + "depthwise", b.mid_channels, b.mid_channels, b.kernel, b.stride, true, true, true});
    v.push_back({p + "project", b.mid_channels, b.out_channels, 1, 1, false, true, false});
  }
  int last = a.blocks.empty() ? a.first_conv.out_channels : a.blocks.back().out_channels;
  if (a.feature_mix_channels > 0) {
    v.push_back({"feature_mix", last, a.feature_mix_channels, 1, 1, false, true, true});
    last = a.feature_mix_channels;
  }
  v.push_back({"classifier", last, a.num_classes, 1, 1, false, false, false});
  return v;
}

int64_t WeightCount(const ExpectedLayer& e) {
  const int64_t kk = static_cast<int64_t>(e.kernel) * e.kernel;
  return e.depthwise ? kk * e.out : kk * e.out * e.in;
}

void Check(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw InvalidInput("float model: " + where + ": " + what);
}

std::string Sz(size_t n) { return std::to_string(n); }

json FloatsToJson(const std::vector<float>& v) { return json(v); }

std::vector<float> FloatsFromJson(const JsonReader& r, const json& obj, const std::string& key,
                                  const std::string& prefix) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_array()) r.Fail(prefix, key, "expected an array of numbers, got " + JsonTypeName(*it));
  std::vector<float> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& x = (*it)[i];
    if (!x.is_number())
      r.Fail(prefix, key + "[" + std::to_string(i) + "]", "expected a number, got " + JsonTypeName(x));
    out.push_back(static_cast<float>(x.get<double>()));
  }
  return out;
}

FloatLayer RandomLayer(Rng& rng, const ExpectedLayer& e) {
  FloatLayer l;
  l.name = e.name;
  l.in_channels = e.in;
  l.out_channels = e.out;
  l.kernel = e.kernel;
  l.stride = e.stride;
  l.depthwise = e.depthwise;
  l.relu6 = e.relu6;
  const int fan_in = e.depthwise ? e.kernel * e.kernel : e.kernel * e.kernel * e.in;
  const double a = std::sqrt(6.0 / fan_in);
  const int64_t n = WeightCount(e);
  for (int64_t i = 0; i < n; ++i) l.weight.push_back(static_cast<float>((2 * rng.Uniform() - 1) * a));
  for (int c = 0; c < e.out; ++c) l.bias.push_back(static_cast<float>(0.1 * (2 * rng.Uniform() - 1)));
  if (e.bn) {
    for (int c = 0; c < e.out; ++c) {
      l.bn_gamma.push_back(static_cast<float>(0.5 + rng.Uniform()));
      l.bn_beta.push_back(static_cast<float>(0.3 * (2 * rng.Uniform() - 1)));
      l.bn_mean.push_back(static_cast<float>(0.2 * (2 * rng.Uniform() - 1)));
      l.bn_var.push_back(static_cast<float>(0.5 + rng.Uniform()));
    }
  }
  return l;
}

}  // namespace

FloatModel RandomFloatModel(const Arch& arch, uint64_t seed) {
  arch.Validate();
  Rng rng(seed);
  FloatModel m;
  m.arch = arch;
  for (int c = 0; c < arch.in_channels; ++c) {
    m.input_mean.push_back(static_cast<float>(0.3 + 0.2 * rng.Uniform()));
    m.input_std.push_back(static_cast<float>(0.2 + 0.2 * rng.Uniform()));
  }
  for (const ExpectedLayer& e : ExpectedLayers(arch)) m.layers.push_back(RandomLayer(rng, e));
  return m;
}

void FloatModel::Validate() const {
  arch.Validate();
  Check(static_cast<int>(input_mean.size()) == arch.in_channels, "input_mean",
        "expected " + std::to_string(arch.in_channels) + " values (one per input channel), got " +
            Sz(input_mean.size()));
  Check(static_cast<int>(input_std.size()) == arch.in_channels, "input_std",
        "expected " + std::to_string(arch.in_channels) + " values, got " + Sz(input_std.size()));
  for (size_t c = 0; c < input_std.size(); ++c) {
    Check(input_std[c] > 0, "input_std[" + Sz(c) + "]", "must be > 0");
  }
  const std::vector<ExpectedLayer> want = ExpectedLayers(arch);
  Check(layers.size() == want.size(), "layers",
        "the architecture implies " + Sz(want.size()) + " layers, got " + Sz(layers.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const ExpectedLayer& e = want[i];
    const FloatLayer& l = layers[i];
    const std::string where = "layers[" + Sz(i) + "] '" + l.name + "'";
    Check(l.name == e.name, where, "expected the layer named '" + e.name + "'");
    Check(l.in_channels == e.in && l.out_channels == e.out, where,
          "expected " + std::to_string(e.in) + " -> " + std::to_string(e.out) + " channels, got " +
              std::to_string(l.in_channels) + " -> " + std::to_string(l.out_channels));
    Check(l.kernel == e.kernel && l.stride == e.stride && l.depthwise == e.depthwise, where,
          "expected kernel " + std::to_string(e.kernel) + " stride " + std::to_string(e.stride) +
              (e.depthwise ? " depthwise" : ""));
    Check(l.relu6 == e.relu6, where, std::string("expected relu6 = ") + (e.relu6 ? "true" : "false"));
    Check(static_cast<int64_t>(l.weight.size()) == WeightCount(e), where,
          "weight has " + Sz(l.weight.size()) + " values, expected " + std::to_string(WeightCount(e)));
    Check(l.bias.empty() || static_cast<int>(l.bias.size()) == e.out, where,
          "bias has " + Sz(l.bias.size()) + " values, expected " + std::to_string(e.out) + " or none");
    const size_t nbn = l.bn_gamma.size();
    Check(nbn == 0 || static_cast<int>(nbn) == e.out, where,
          "bn_gamma has " + Sz(nbn) + " values, expected " + std::to_string(e.out) + " or none");
    Check(l.bn_beta.size() == nbn && l.bn_mean.size() == nbn && l.bn_var.size() == nbn, where,
          "bn_gamma, bn_beta, bn_mean and bn_var must have the same length");
    for (size_t c = 0; c < l.bn_var.size(); ++c) {
      Check(l.bn_var[c] >= 0, where, "bn_var[" + Sz(c) + "] is negative");
    }
    Check(!(l.has_bn() && !e.bn), where, "the classifier has no BatchNorm");
    Check(l.bn_eps > 0, where, "bn_eps must be > 0");
  }
}

void SaveFloatModel(const FloatModel& model, const std::string& path) {
  model.Validate();
  json layers = json::array();
  for (const FloatLayer& l : model.layers) {
    json j = {{"name", l.name},
              {"in_channels", l.in_channels},
              {"out_channels", l.out_channels},
              {"kernel", l.kernel},
              {"stride", l.stride},
              {"depthwise", l.depthwise},
              {"relu6", l.relu6},
              {"weight", FloatsToJson(l.weight)}};
    if (!l.bias.empty()) j["bias"] = FloatsToJson(l.bias);
    if (l.has_bn()) {
      j["bn_gamma"] = FloatsToJson(l.bn_gamma);
      j["bn_beta"] = FloatsToJson(l.bn_beta);
      j["bn_mean"] = FloatsToJson(l.bn_mean);
      j["bn_var"] = FloatsToJson(l.bn_var);
      j["bn_eps"] = l.bn_eps;
    }
    layers.push_back(std::move(j));
  }
  json j = {{"schema_version", kFloatModelSchemaVersion},
            {"kind", "float_model"},
            {"arch", ArchToJson(model.arch)},
            {"input_mean", FloatsToJson(model.input_mean)},
            {"input_std", FloatsToJson(model.input_std)},
            {"layers", std::move(layers)}};
  WriteTextFile(j.dump(), path);
}

FloatModel LoadFloatModel(const std::string& path) {
  const json j = ReadJsonFile(path);
  const JsonReader r(path);
  const int version = r.Get<int>(j, "schema_version");
  if (version != kFloatModelSchemaVersion) {
    r.Fail("", "schema_version",
           "this mcunet reads version " + std::to_string(kFloatModelSchemaVersion) + ", the file has " +
               std::to_string(version));
  }
  const std::string kind = r.Get<std::string>(j, "kind");
  if (kind != "float_model") r.Fail("", "kind", "expected \"float_model\", got \"" + kind + "\"");
  FloatModel m;
  m.arch = ArchFromJson(r.Object(j, "arch"), path + ": arch");
  m.input_mean = FloatsFromJson(r, j, "input_mean", "");
  m.input_std = FloatsFromJson(r, j, "input_std", "");
  const json& layers = r.Array(j, "layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    const json& lj = layers[i];
    const std::string p = "layers[" + Sz(i) + "].";
    FloatLayer l;
    l.name = r.Get<std::string>(lj, "name", p);
    l.in_channels = r.Get<int>(lj, "in_channels", p);
    l.out_channels = r.Get<int>(lj, "out_channels", p);
    l.kernel = r.Get<int>(lj, "kernel", p);
    l.stride = r.Get<int>(lj, "stride", p);
    l.depthwise = r.Get<bool>(lj, "depthwise", p, false);
    l.relu6 = r.Get<bool>(lj, "relu6", p, false);
    l.weight = FloatsFromJson(r, lj, "weight", p);
    l.bias = FloatsFromJson(r, lj, "bias", p);
    l.bn_gamma = FloatsFromJson(r, lj, "bn_gamma", p);
    l.bn_beta = FloatsFromJson(r, lj, "bn_beta", p);
    l.bn_mean = FloatsFromJson(r, lj, "bn_mean", p);
    l.bn_var = FloatsFromJson(r, lj, "bn_var", p);
    l.bn_eps = r.Get<float>(lj, "bn_eps", p, 1e-5f);
    m.layers.push_back(std::move(l));
  }
  try {
    m.Validate();
  } catch (const InvalidInput& e) {
    throw InvalidInput(path + ": " + e.what());
  }
  return m;
}

}  // namespace mcunet
