#include "mcunet/arch.h"

#include <string>

#include "mcunet/error.h"

namespace mcunet {

bool operator==(const FirstConv& a, const FirstConv& b) {
  return a.out_channels == b.out_channels && a.kernel == b.kernel && a.stride == b.stride;
}

bool Arch::operator==(const Arch& o) const {
  return name == o.name && resolution == o.resolution && in_channels == o.in_channels &&
         num_classes == o.num_classes && first_conv == o.first_conv && blocks == o.blocks &&
         feature_mix_channels == o.feature_mix_channels;
}

int Arch::last_channels() const {
  if (feature_mix_channels > 0) return feature_mix_channels;
  if (!blocks.empty()) return blocks.back().out_channels;
  return first_conv.out_channels;
}

namespace {

void Require(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw InvalidInput("arch " + where + ": " + what);
}

bool ValidKernel(int k) { return k >= 1 && k % 2 == 1; }

}  // namespace

void Arch::Validate() const {
  const std::string who = name.empty() ? std::string("<unnamed>") : "'" + name + "'";
  Require(resolution > 0, who, "resolution must be > 0, got " + std::to_string(resolution));
  Require(in_channels > 0, who, "in_channels must be > 0, got " + std::to_string(in_channels));
  Require(num_classes > 0, who, "num_classes must be > 0, got " + std::to_string(num_classes));
  Require(first_conv.out_channels > 0, who + " first_conv",
          "out_channels must be > 0, got " + std::to_string(first_conv.out_channels));
  Require(ValidKernel(first_conv.kernel), who + " first_conv",
          "kernel must be an odd number >= 1, got " + std::to_string(first_conv.kernel));
  Require(first_conv.stride >= 1, who + " first_conv",
          "stride must be >= 1, got " + std::to_string(first_conv.stride));
  Require(feature_mix_channels >= 0, who,
          "feature_mix_channels must be >= 0, got " + std::to_string(feature_mix_channels));

  int channels = first_conv.out_channels;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const MBBlock& b = blocks[i];
    const std::string where = who + " block " + std::to_string(i);
    Require(b.in_channels == channels, where,
            "in_channels " + std::to_string(b.in_channels) + " does not match the previous layer's " +
                std::to_string(channels) + " output channels");
    Require(b.out_channels > 0, where, "out_channels must be > 0, got " + std::to_string(b.out_channels));
    Require(b.mid_channels > 0, where, "mid_channels must be > 0, got " + std::to_string(b.mid_channels));
    Require(b.expand_ratio >= 1, where, "expand_ratio must be >= 1, got " + std::to_string(b.expand_ratio));
    Require(b.has_expand() || b.mid_channels == b.in_channels, where,
            "expand_ratio 1 needs mid_channels == in_channels (" + std::to_string(b.in_channels) +
                "), got " + std::to_string(b.mid_channels));
    Require(ValidKernel(b.kernel), where, "kernel must be an odd number >= 1, got " + std::to_string(b.kernel));
    Require(b.stride >= 1, where, "stride must be >= 1, got " + std::to_string(b.stride));
    Require(!b.residual || (b.stride == 1 && b.in_channels == b.out_channels), where,
            "a residual block needs stride 1 and in_channels == out_channels, got stride " +
                std::to_string(b.stride) + ", " + std::to_string(b.in_channels) + " -> " +
                std::to_string(b.out_channels));
    channels = b.out_channels;
  }
}

}  // namespace mcunet
