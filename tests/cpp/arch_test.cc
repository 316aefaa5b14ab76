// Arch IR: zoo loading, exact MAC/param counts, JSON round trip, bad input.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcunet/arch.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"

namespace mcunet {
namespace {

const std::string kZoo = MCUNET_TEST_DATA "/zoo/";

struct Published {
  const char* file;
  int resolution;
  int64_t macs;
  int64_t params;          // incl. BN
  int64_t params_excl_bn;  // = params_folded
};

// /work/shared/data/README.md: the MCUNet model zoo's figures.
const Published kPublished[] = {
    {"mcunet-5fps_imagenet.json", 96, 12790096, 636232, 624216},
    {"mcunet-256kb-1mb_imagenet.json", 160, 67287200, 729392, 713904},
    {"mcunet-512kb-2mb_imagenet.json", 160, 125874400, 1732640, 1711232},
    {"mbv2-w0.35-r144_imagenet.json", 144, 23499152, 750280, 737864},
    {"proxyless-w0.3-r176_imagenet.json", 176, 38282216, 754280, 742680},
};

TEST(ArchZoo, MacsAndParamsEqualPublishedFigures) {
  for (const Published& p : kPublished) {
    SCOPED_TRACE(p.file);
    const Arch a = LoadArch(kZoo + p.file);
    EXPECT_EQ(a.resolution, p.resolution);
    EXPECT_EQ(a.num_classes, 1000);
    const ParamCounts c = CountArch(a);
    EXPECT_EQ(c.macs, p.macs);
    EXPECT_EQ(c.params, p.params);
    EXPECT_EQ(c.params_folded, p.params_excl_bn);
    // The lowered graph counts the same MACs op by op.
    EXPECT_EQ(LowerArch(a).TotalMacs(), p.macs);
  }
}

TEST(ArchZoo, ZeroLayerBlocksAreSkippedAndShortcutsKept) {
  const Arch a = LoadArch(kZoo + "proxyless-w0.3-r176_imagenet.json");
  for (const MBBlock& b : a.blocks) {
    EXPECT_GT(b.mid_channels, 0);
    if (b.residual) {
      EXPECT_EQ(b.stride, 1);
      EXPECT_EQ(b.in_channels, b.out_channels);
    }
  }
  EXPECT_EQ(a.feature_mix_channels, 384);
  EXPECT_EQ(a.name, "proxyless-w0.3-r176_imagenet");
}

TEST(ArchJson, RoundTripsExactly) {
  for (const Published& p : kPublished) {
    const Arch a = LoadArch(kZoo + p.file);
    const nlohmann::json j = ArchToJson(a);
    EXPECT_EQ(j["schema_version"], kArchSchemaVersion);
    const Arch b = ArchFromJson(nlohmann::json::parse(j.dump()), "roundtrip");
    EXPECT_EQ(a, b) << p.file;
    EXPECT_EQ(ArchToJson(b), j);
  }
}

nlohmann::json SmallArchJson() {
  return nlohmann::json::parse(R"({
    "schema_version": 1, "kind": "arch", "name": "tiny", "resolution": 32, "in_channels": 1,
    "num_classes": 10, "first_conv": {"out_channels": 8, "kernel": 3, "stride": 2},
    "blocks": [
      {"in_channels": 8, "out_channels": 8, "mid_channels": 8, "kernel": 3, "stride": 1, "expand_ratio": 1, "residual": false},
      {"in_channels": 8, "out_channels": 16, "mid_channels": 24, "kernel": 5, "stride": 2, "expand_ratio": 3, "residual": false},
      {"in_channels": 16, "out_channels": 16, "mid_channels": 64, "kernel": 7, "stride": 1, "expand_ratio": 4, "residual": true}
    ],
    "feature_mix_channels": 0})");
}

TEST(ArchJson, SmallArchLowersToExpectedOps) {
  const Arch a = ArchFromJson(SmallArchJson(), "small");
  const Graph g = LowerArch(a);
  // conv, [dw, pw], [pw, dw, pw], [pw, dw, pw, add], mean, fc
  ASSERT_EQ(g.ops.size(), 1u + 2 + 3 + 4 + 2);
  EXPECT_EQ(g.ops[0].kind, OpKind::kConv2D);
  EXPECT_EQ(g.ops[1].kind, OpKind::kDepthwiseConv2D);
  EXPECT_EQ(g.ops[9].kind, OpKind::kAdd);
  EXPECT_EQ(g.ops[11].kind, OpKind::kFullyConnected);
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, MakeShape({1, 32, 32, 1}));
  EXPECT_EQ(g.tensors[g.ops[0].output].shape, MakeShape({1, 16, 16, 8}));
  EXPECT_EQ(g.tensors[g.ops[4].output].shape, MakeShape({1, 8, 8, 24}));
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, MakeShape({1, 10}));
  g.Validate();
  // Independent count: first conv 16*16*8*9*1, ...
  int64_t macs = 16 * 16 * 8 * 9;                             // first conv
  macs += 16 * 16 * 8 * 9 + 16 * 16 * 8 * 8;                  // block 0
  macs += 16 * 16 * 8 * 24 + 8 * 8 * 24 * 25 + 8 * 8 * 24 * 16;  // block 1
  macs += 8 * 8 * 16 * 64 + 8 * 8 * 64 * 49 + 8 * 8 * 64 * 16;   // block 2
  macs += 16 * 10;
  EXPECT_EQ(g.TotalMacs(), macs);
  EXPECT_EQ(CountArch(a).macs, macs);
}

void ExpectInvalid(const nlohmann::json& j, const std::string& fragment) {
  try {
    ArchFromJson(j, "bad.json");
    ADD_FAILURE() << "accepted: " << j.dump();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
}

TEST(ArchJson, BadInputIsAClearError) {
  nlohmann::json j = SmallArchJson();
  j.erase("resolution");
  ExpectInvalid(j, "resolution: missing");

  j = SmallArchJson();
  j["resolution"] = "big";
  ExpectInvalid(j, "resolution: expected an integer");

  j = SmallArchJson();
  j["blocks"][1]["out_channels"] = -4;
  ExpectInvalid(j, "block 1");

  j = SmallArchJson();
  j["blocks"][1]["stride"] = 0;
  ExpectInvalid(j, "stride must be >= 1");

  j = SmallArchJson();
  j["blocks"][1]["residual"] = true;  // stride 2, 8 -> 16
  ExpectInvalid(j, "residual");

  j = SmallArchJson();
  j["blocks"][2]["in_channels"] = 12;
  ExpectInvalid(j, "does not match");

  j = SmallArchJson();
  j["schema_version"] = 99;
  ExpectInvalid(j, "schema_version");

  j = SmallArchJson();
  j["blocks"] = 3;
  ExpectInvalid(j, "blocks: expected an array");

  ExpectInvalid(nlohmann::json::array(), "expected a JSON object");
}

TEST(ArchJson, FilesMissingOrMalformed) {
  EXPECT_THROW(LoadArch(MCUNET_TEST_DATA "/no-such-file.json"), FileNotFound);
  try {
    ArchFromJson(nlohmann::json::parse("{}"), "empty.json");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("empty.json: schema_version: missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mcunet
