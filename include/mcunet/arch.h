// Architecture IR: an MCUNet-style network as plain data.
//
// first conv -> MBConv blocks -> optional 1x1 feature mix -> global average
// pool -> linear classifier. Every convolution is followed by BatchNorm and
// ReLU6 except the linear 1x1 projection at the end of each block.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mcunet {

inline constexpr int kArchSchemaVersion = 1;

struct FirstConv {
  int out_channels = 16;
  int kernel = 3;
  int stride = 2;
};

// Inverted residual block: 1x1 expand (absent when expand_ratio == 1),
// k x k depthwise with `stride`, 1x1 linear projection, optional identity
// shortcut (requires stride 1 and in_channels == out_channels).
struct MBBlock {
  int in_channels = 0;
  int out_channels = 0;
  int mid_channels = 0;  // channels of the depthwise conv
  int kernel = 3;
  int stride = 1;
  int expand_ratio = 1;
  bool residual = false;

  bool has_expand() const { return expand_ratio != 1; }
  bool operator==(const MBBlock&) const = default;
};

struct Arch {
  std::string name;
  int resolution = 0;  // square input, pixels
  int in_channels = 3;
  int num_classes = 0;
  FirstConv first_conv;
  std::vector<MBBlock> blocks;
  int feature_mix_channels = 0;  // 0: no feature-mix layer

  // Channels that reach the classifier.
  int last_channels() const;
  // Throws InvalidInput naming the offending block/field.
  void Validate() const;

  bool operator==(const Arch&) const;
};

bool operator==(const FirstConv& a, const FirstConv& b);

// Spatial size after a stride-s convolution with "same" padding.
inline int ConvOutSize(int in, int stride) { return (in + stride - 1) / stride; }

// Versioned JSON of this project ({"schema_version": 1, "kind": "arch", ...}).
nlohmann::json ArchToJson(const Arch& arch);
// Accepts our JSON and the original MCUNet/ProxylessNAS zoo format
// ("name": "ProxylessNASNets"). `source` names the file in error messages.
Arch ArchFromJson(const nlohmann::json& j, const std::string& source = "<json>");
Arch LoadArch(const std::string& path);
void SaveArch(const Arch& arch, const std::string& path);

}  // namespace mcunet
