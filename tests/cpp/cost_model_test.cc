// Cost model: Flash accounting, boards and fits().
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"

namespace mcunet {
namespace {

const std::string kZoo = MCUNET_TEST_DATA "/zoo/";

TEST(Boards, BuiltinBoardsMatchThePaper) {
  const Board f746 = FindBoard("STM32F746");
  EXPECT_EQ(f746.sram_bytes, 320 * 1024);
  EXPECT_EQ(f746.flash_bytes, 1024 * 1024);
  EXPECT_EQ(f746.clock_mhz, 216);
  EXPECT_EQ(f746.core, CoreType::kCortexM7);
  EXPECT_EQ(FindBoard("f412").core, CoreType::kCortexM4);
  EXPECT_EQ(FindBoard("stm32h743").flash_bytes, 2048 * 1024);
  EXPECT_EQ(FindBoard("stm32f765").sram_bytes, 512 * 1024);
  EXPECT_EQ(BuiltinBoards().size(), 4u);
}

TEST(Boards, UnknownBoardNamesTheKnownOnes) {
  try {
    FindBoard("esp32");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("stm32f746"), std::string::npos);
  }
  EXPECT_THROW(FindBoard("/nonexistent/board.json"), FileNotFound);
}

TEST(Boards, UserBoardFromJson) {
  const Board b = BoardFromJson(
      nlohmann::json::parse(R"({"name":"mine","core":"cortex-m4","sram_kb":128,"flash_kb":512,"clock_mhz":80})"),
      "mine.json");
  EXPECT_EQ(b.sram_bytes, 128 * 1024);
  EXPECT_EQ(BoardFromJson(BoardToJson(b), "x").flash_bytes, b.flash_bytes);
  EXPECT_THROW(BoardFromJson(nlohmann::json::parse(R"({"name":"m","core":"z80","sram_kb":1,"flash_kb":1,"clock_mhz":1})"),
                             "z.json"),
               InvalidInput);
}

TEST(Flash, CountsInt8WeightsInt32BiasAndPerChannelQuant) {
  const Arch a = LoadArch(kZoo + "mcunet-5fps_imagenet.json");
  const Graph g = LowerArch(a);
  const FlashBreakdown f = EstimateFlash(g);
  const ParamCounts c = CountArch(a);
  // Every folded weight is one byte; FC bias is part of params_folded but
  // lives in bias_bytes.
  EXPECT_EQ(f.weight_bytes, c.params_folded - a.num_classes);
  int64_t channels = 0;
  for (const Op& op : g.ops) {
    if (op.inputs[2] >= 0) channels += g.tensors[op.inputs[2]].shape.elements();
  }
  EXPECT_EQ(f.bias_bytes, 4 * channels);
  EXPECT_EQ(f.quant_bytes, 5 * channels);  // int32 multiplier + int8 shift
  EXPECT_GT(f.code_bytes, 0);
  EXPECT_EQ(f.total(), f.weight_bytes + f.bias_bytes + f.quant_bytes + f.code_bytes);
}

TEST(Fits, SaysWhichConstraintFailsAndByHowMuch) {
  CostReport r;
  r.plan.peak_sram_bytes = 400 * 1024;
  r.flash.weight_bytes = 900 * 1024;
  const FitResult f = Fits(r, FindBoard("stm32f746"));
  EXPECT_FALSE(f.fits);
  EXPECT_EQ(f.sram_excess_bytes, 80 * 1024);
  EXPECT_LT(f.flash_excess_bytes, 0);
  EXPECT_NE(f.message.find("by 81920 B"), std::string::npos) << f.message;
  EXPECT_EQ(f.message.find("Flash"), std::string::npos) << f.message;

  r.flash.weight_bytes = 2 * 1024 * 1024;
  const FitResult g = Fits(r, FindBoard("stm32f746"));
  EXPECT_NE(g.message.find("Flash"), std::string::npos) << g.message;

  r.plan.peak_sram_bytes = 1000;
  r.flash.weight_bytes = 1000;
  EXPECT_TRUE(Fits(r, FindBoard("stm32f746")).fits);
}

TEST(CostReport, JsonHasExactlyTheDocumentedKeys) {
  const Arch a = LoadArch(kZoo + "mcunet-5fps_imagenet.json");
  for (const std::string planner : {"tinyengine", "tflm", "cmsis"}) {
    const CostReport r = EvaluateCost(a, planner);
    const Graph& g = r.graph;
    const nlohmann::json j = CostReportToJson(r);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"arena_bytes", "flash_bytes", "macs", "params", "params_folded",
                                              "peak_sram_bytes", "plan", "schema_version", "scratch_bytes"}));
    EXPECT_EQ(j["macs"], 12790096);
    EXPECT_EQ(j["plan"]["ops"].size(), g.ops.size());
    EXPECT_EQ(r.plan.peak_sram_bytes, r.plan.arena_bytes + r.plan.scratch_bytes);
    r.plan.CheckConsistent(g);
  }
  EXPECT_THROW(EvaluateCost(a, "magic"), InvalidInput);
}

TEST(CostEvaluator, ReusedEvaluatorGivesTheSameAnswer) {
  CostEvaluator e;
  const Arch a = LoadArch(kZoo + "mcunet-5fps_imagenet.json");
  const Arch b = LoadArch(kZoo + "mbv2-w0.35-r144_imagenet.json");
  const int64_t pa = e.Evaluate(a).plan.peak_sram_bytes;
  const int64_t pb = e.Evaluate(b).plan.peak_sram_bytes;
  EXPECT_EQ(e.Evaluate(a).plan.peak_sram_bytes, pa);
  EXPECT_EQ(EvaluateCost(b).plan.peak_sram_bytes, pb);
}

}  // namespace
}  // namespace mcunet
