// MemoryPlan::CheckConsistent rejects plans whose buffers collide beyond what
// the recorded overlap allows, and the timeline shows every op.
#include <gtest/gtest.h>

#include "mcunet/arch.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"

namespace mcunet {
namespace {

CostReport PlannedZooModel() {
  return EvaluateCost(LoadArch(MCUNET_TEST_DATA "/zoo/mcunet-5fps_imagenet.json"), "tinyengine");
}

// Index of the first op the plan runs with the given overlap.
int FirstOpWith(const CostReport& r, Overlap o) {
  for (size_t k = 0; k < r.plan.ops.size(); ++k) {
    if (r.plan.ops[k].overlap == o) return static_cast<int>(k);
  }
  return -1;
}

BufferPlacement& BufferOf(MemoryPlan& p, int32_t tensor) {
  for (BufferPlacement& b : p.buffers) {
    if (b.tensor == tensor) return b;
  }
  throw Error("no buffer");
}

TEST(CheckConsistent, AcceptsThePlannersPlans) {
  for (const std::string planner : {"tinyengine", "tflm", "cmsis"}) {
    const CostReport r = EvaluateCost(LoadArch(MCUNET_TEST_DATA "/zoo/mcunet-5fps_imagenet.json"), planner);
    EXPECT_NO_THROW(r.plan.CheckConsistent(r.graph)) << planner;
  }
}

TEST(CheckConsistent, RejectsAnUndeclaredOverlap) {
  CostReport r = PlannedZooModel();
  const int k = FirstOpWith(r, Overlap::kInPlaceDepthwise);
  ASSERT_GE(k, 0);
  r.plan.ops[k].overlap = Overlap::kNone;  // the bytes are still shared
  EXPECT_THROW(r.plan.CheckConsistent(r.graph), Error);
}

TEST(CheckConsistent, RejectsAnInPlaceDepthwiseAtAnotherOffset) {
  CostReport r = PlannedZooModel();
  const int k = FirstOpWith(r, Overlap::kInPlaceDepthwise);
  ASSERT_GE(k, 0);
  BufferPlacement& out = BufferOf(r.plan, r.graph.ops[k].output);
  out.offset += 1;  // still overlapping the input, but shifted by one byte
  r.plan.arena_bytes += 1;
  EXPECT_THROW(r.plan.CheckConsistent(r.graph), Error);
}

TEST(CheckConsistent, RejectsAPointwiseOverlapThatOverwritesUnreadInput) {
  CostReport r = PlannedZooModel();
  int k = FirstOpWith(r, Overlap::kPointwiseReverse);
  if (k < 0) k = FirstOpWith(r, Overlap::kPointwiseForward);
  ASSERT_GE(k, 0);
  // Flip the processing order: the same offsets are then unsafe (the input
  // and output pixel sizes differ in every MCUNet 1x1 conv that overlaps).
  Overlap& o = r.plan.ops[k].overlap;
  o = o == Overlap::kPointwiseReverse ? Overlap::kPointwiseForward : Overlap::kPointwiseReverse;
  EXPECT_THROW(r.plan.CheckConsistent(r.graph), Error);
}

TEST(Timeline, HasOneRowPerOp) {
  const CostReport r = PlannedZooModel();
  const std::string t = r.plan.Timeline(r.graph, 60);
  size_t rows = 0;
  for (char c : t) rows += c == '\n';
  EXPECT_EQ(rows, r.graph.ops.size() + 2);  // header + ops + legend
  EXPECT_NE(t.find("inplace_depthwise"), std::string::npos);
}

}  // namespace
}  // namespace mcunet
