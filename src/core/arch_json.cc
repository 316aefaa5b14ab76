// Arch <-> JSON: our versioned format and the original MCUNet zoo format.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mcunet/arch.h"
#include "mcunet/error.h"
#include "core/json_util.h"

namespace mcunet {

using nlohmann::json;

json ArchToJson(const Arch& a) {
  json blocks = json::array();
  for (const MBBlock& b : a.blocks) {
    blocks.push_back({{"in_channels", b.in_channels},
                      {"out_channels", b.out_channels},
                      {"mid_channels", b.mid_channels},
                      {"kernel", b.kernel},
                      {"stride", b.stride},
                      {"expand_ratio", b.expand_ratio},
                      {"residual", b.residual}});
  }
  return {{"schema_version", kArchSchemaVersion},
          {"kind", "arch"},
          {"name", a.name},
          {"resolution", a.resolution},
          {"in_channels", a.in_channels},
          {"num_classes", a.num_classes},
          {"first_conv",
           {{"out_channels", a.first_conv.out_channels},
            {"kernel", a.first_conv.kernel},
            {"stride", a.first_conv.stride}}},
          {"blocks", blocks},
          {"feature_mix_channels", a.feature_mix_channels}};
}

namespace {

// The original ProxylessNASNets JSON of mit-han-lab/mcunet (assets/configs).
Arch ArchFromZooJson(const json& j, const std::string& src) {
  JsonReader r(src);
  Arch a;
  a.resolution = r.Get<int>(j, "resolution");
  const json& fc = r.Object(j, "first_conv");
  a.in_channels = r.Get<int>(fc, "in_channels", "first_conv.");
  a.first_conv.out_channels = r.Get<int>(fc, "out_channels", "first_conv.");
  a.first_conv.kernel = r.Get<int>(fc, "kernel_size", "first_conv.");
  a.first_conv.stride = r.Get<int>(fc, "stride", "first_conv.");

  const json& blocks = r.Array(j, "blocks");
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string at = "blocks[" + std::to_string(i) + "].";
    const json& conv = r.Object(blocks[i], "mobile_inverted_conv", at);
    const std::string conv_at = at + "mobile_inverted_conv.";
    const std::string kind = r.Get<std::string>(conv, "name", conv_at);
    if (kind == "ZeroLayer") continue;  // a skipped block: identity, no layers
    if (kind != "MBInvertedConvLayer") {
      throw Unsupported(src + ": " + conv_at + "name: expected MBInvertedConvLayer or ZeroLayer, got " + kind);
    }
    MBBlock b;
    b.in_channels = r.Get<int>(conv, "in_channels", conv_at);
    b.out_channels = r.Get<int>(conv, "out_channels", conv_at);
    b.kernel = r.Get<int>(conv, "kernel_size", conv_at);
    b.stride = r.Get<int>(conv, "stride", conv_at);
    b.expand_ratio = r.Get<int>(conv, "expand_ratio", conv_at);
    if (conv.contains("use_se") && conv["use_se"].is_boolean() && conv["use_se"].get<bool>()) {
      throw Unsupported(src + ": " + conv_at + "use_se: squeeze-excitation is not supported");
    }
    // The original: mid = round(in * expand) unless given explicitly.
    if (conv.contains("mid_channels") && !conv["mid_channels"].is_null()) {
      b.mid_channels = r.Get<int>(conv, "mid_channels", conv_at);
    } else {
      b.mid_channels = b.in_channels * b.expand_ratio;
    }
    b.residual = blocks[i].contains("shortcut") && !blocks[i]["shortcut"].is_null();
    a.blocks.push_back(b);
  }
  if (j.contains("feature_mix_layer") && !j["feature_mix_layer"].is_null()) {
    a.feature_mix_channels = r.Get<int>(r.Object(j, "feature_mix_layer"), "out_channels", "feature_mix_layer.");
  }
  const json& cls = r.Object(j, "classifier");
  a.num_classes = r.Get<int>(cls, "out_features", "classifier.");
  const int in_features = r.Get<int>(cls, "in_features", "classifier.");
  if (in_features != a.last_channels()) {
    throw InvalidInput(src + ": classifier.in_features: expected " + std::to_string(a.last_channels()) +
                       " (the last layer's channels), got " + std::to_string(in_features));
  }
  return a;
}

Arch ArchFromOurJson(const json& j, const std::string& src) {
  JsonReader r(src);
  const int version = r.Get<int>(j, "schema_version");
  if (version != kArchSchemaVersion) {
    throw InvalidInput(src + ": schema_version: expected " + std::to_string(kArchSchemaVersion) + ", got " +
                       std::to_string(version));
  }
  Arch a;
  a.name = r.Get<std::string>(j, "name", "", std::string());
  a.resolution = r.Get<int>(j, "resolution");
  a.in_channels = r.Get<int>(j, "in_channels", "", 3);
  a.num_classes = r.Get<int>(j, "num_classes");
  const json& fc = r.Object(j, "first_conv");
  a.first_conv.out_channels = r.Get<int>(fc, "out_channels", "first_conv.");
  a.first_conv.kernel = r.Get<int>(fc, "kernel", "first_conv.", 3);
  a.first_conv.stride = r.Get<int>(fc, "stride", "first_conv.", 2);
  const json& blocks = r.Array(j, "blocks");
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string at = "blocks[" + std::to_string(i) + "].";
    const json& bj = blocks[i];
    if (!bj.is_object()) throw InvalidInput(src + ": " + at.substr(0, at.size() - 1) + ": expected an object");
    MBBlock b;
    b.in_channels = r.Get<int>(bj, "in_channels", at);
    b.out_channels = r.Get<int>(bj, "out_channels", at);
    b.expand_ratio = r.Get<int>(bj, "expand_ratio", at, 1);
    b.mid_channels = r.Get<int>(bj, "mid_channels", at, b.in_channels * b.expand_ratio);
    b.kernel = r.Get<int>(bj, "kernel", at);
    b.stride = r.Get<int>(bj, "stride", at, 1);
    b.residual = r.Get<bool>(bj, "residual", at, false);
    a.blocks.push_back(b);
  }
  a.feature_mix_channels = r.Get<int>(j, "feature_mix_channels", "", 0);
  return a;
}

}  // namespace

Arch ArchFromJson(const json& j, const std::string& source) {
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object describing an architecture");
  Arch a;
  if (j.contains("name") && j["name"] == "ProxylessNASNets" && !j.contains("schema_version")) {
    a = ArchFromZooJson(j, source);
    a.name.clear();
  } else {
    a = ArchFromOurJson(j, source);
  }
  try {
    a.Validate();
  } catch (const InvalidInput& e) {
    throw InvalidInput(source + ": " + e.what());
  }
  return a;
}

Arch LoadArch(const std::string& path) {
  Arch a = ArchFromJson(ReadJsonFile(path), path);
  if (a.name.empty()) {
    // Name zoo models after their file, e.g. "mcunet-5fps_imagenet".
    const size_t slash = path.find_last_of('/');
    std::string stem = path.substr(slash == std::string::npos ? 0 : slash + 1);
    if (const size_t dot = stem.rfind('.'); dot != std::string::npos) stem.resize(dot);
    a.name = stem;
  }
  return a;
}

void SaveArch(const Arch& arch, const std::string& path) { WriteJsonFile(ArchToJson(arch), path); }

}  // namespace mcunet
