// The TF-Lite Micro baselines: "tflm" (GreedyMemoryPlanner, reference
// kernels) and "cmsis" (the same arena with CMSIS-NN's scratch requests).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cost/planners.h"
#include "cost/tflm_greedy.h"
#include "mcunet/arch.h"
#include "mcunet/graph.h"
#include "mcunet/lower.h"
#include "mcunet/memory_plan.h"
#include "mcunet/tflite_reader.h"

namespace mcunet {
namespace {

const std::string kVww1 = MCUNET_TEST_DATA "/mcunet-vww1.tflite";
const std::string kZoo = MCUNET_TEST_DATA "/zoo/";

BufferPlacement Buf(int64_t size, int32_t first, int32_t last) {
  BufferPlacement b;
  b.size = size;
  b.first_op = first;
  b.last_op = last;
  return b;
}

// No two buffers live at the same op share a byte (TFLM plans never overlap).
void ExpectNoLiveOverlap(const MemoryPlan& p) {
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    for (size_t j = i + 1; j < p.buffers.size(); ++j) {
      const BufferPlacement& a = p.buffers[i];
      const BufferPlacement& b = p.buffers[j];
      const bool same_time = !(a.first_op > b.last_op || b.first_op > a.last_op);
      const bool same_bytes = a.offset < b.offset + b.size && b.offset < a.offset + a.size;
      EXPECT_FALSE(same_time && same_bytes) << p.planner << ": buffers " << i << " and " << j << " collide";
    }
  }
}

int64_t MaxLive(const MemoryPlan& p) {
  int64_t m = 0;
  for (const OpPlan& o : p.ops) m = std::max(m, o.live_bytes);
  return m;
}

// Hand-worked GreedyMemoryPlanner, five buffers in AddBuffer order:
//   #0 32 B [0,1]   #1 48 B [1,2]   #2 32 B [2,3]   #3 16 B [0,3]   #4 48 B [3,3]
// Placement order (size descending, ties in reverse AddBuffer order, because
// TFLM fills its sort array from the tail): #4, #1, #2, #0, #3.
//   #4 -> 0 (first).
//   #1: live with nothing placed (#4 starts at 3) -> 0.
//   #2: live with #4@0 and #1@0; gap before #4 is 0 < 32, candidate becomes
//       48 after #4 and #1; end of list -> 48.
//   #0: live with #1@0 only (#4, #2 start later); candidate 48 -> 48.
//   #3: live with all; walk #4@0, #1@0, #2@48 (gap 48-48 = 0), #0@48,
//       candidate max(48+32) = 80 -> 80.
// Head = max(0+48, 0+48, 48+32, 48+32, 80+16) = 96.
TEST(TflmGreedy, HandWorkedFiveBuffers) {
  std::vector<BufferPlacement> b = {Buf(32, 0, 1), Buf(48, 1, 2), Buf(32, 2, 3), Buf(16, 0, 3), Buf(48, 3, 3)};
  EXPECT_EQ(tflm::GreedyPlace(b), 96);
  EXPECT_EQ(b[0].offset, 48);
  EXPECT_EQ(b[1].offset, 0);
  EXPECT_EQ(b[2].offset, 48);
  EXPECT_EQ(b[3].offset, 80);
  EXPECT_EQ(b[4].offset, 0);
}

// Equal sizes are placed in reverse AddBuffer order:
//   #0 32 B [0,1]   #1 32 B [1,2]   #2 16 B [2,3]
// Order #1, #0, #2: #1 -> 0; #0 overlaps #1 -> 32; #2 overlaps #1@0 only,
// gap before #1 is 0, end of list after #1 -> 32. (In AddBuffer order it
// would be #0 -> 0, #1 -> 32, #2 -> 0: same head, different offsets.)
TEST(TflmGreedy, EqualSizesGoInReverseAddOrder) {
  std::vector<BufferPlacement> b = {Buf(32, 0, 1), Buf(32, 1, 2), Buf(16, 2, 3)};
  EXPECT_EQ(tflm::GreedyPlace(b), 64);
  EXPECT_EQ(b[0].offset, 32);
  EXPECT_EQ(b[1].offset, 0);
  EXPECT_EQ(b[2].offset, 32);
}

TEST(TflmGreedy, FirstFitTakesAGapBetweenBuffers) {
  // #0 64 B [0,0]   #1 32 B [1,1]   #2 32 B [0,1]   #3 16 B [1,1]
  // Order #0, #2, #1, #3. #0 -> 0. #2 is live with #0: gap 0 < 32, end of
  // list -> 64. #1 is live with #2@64 only: gap 64 - 0 >= 32 -> 0. #3 is
  // live with #1@0 and #2@64: gap before #1 is 0, then candidate 32 and gap
  // 64 - 32 = 32 >= 16 -> 32. Head 64 + 32 = 96.
  std::vector<BufferPlacement> b = {Buf(64, 0, 0), Buf(32, 1, 1), Buf(32, 0, 1), Buf(16, 1, 1)};
  EXPECT_EQ(tflm::GreedyPlace(b), 96);
  EXPECT_EQ(b[0].offset, 0);
  EXPECT_EQ(b[1].offset, 0);
  EXPECT_EQ(b[2].offset, 64);
  EXPECT_EQ(b[3].offset, 32);
}

// A tiny graph through the whole TFLM flow:
//   t0 input int8 [1,4,4,2] (32 B)
//   op0 DEPTHWISE_CONV_2D 3x3 same: t0, t1 (const) -> t2 [1,4,4,2] (32 B)
//   op1 MEAN over H,W: t2 -> t3 [1,2] (2 B -> 16), scratch 2*4 = 8 B -> 16
//   op2 FULLY_CONNECTED: t3, t4, t5 (const) -> t6 [1,3] (3 B -> 16), output
// Scopes: t0 [0,1], t2 [1,2], t3 [2,3], t6 [3,3], scratch [2,2].
// AddBuffer order t0, t2, t3, t6, S; placement order t2, t0, S, t6, t3:
//   t2 -> 0; t0 overlaps t2 -> 32; S overlaps t2 only -> 32;
//   t6 overlaps nothing placed -> 0; t3 overlaps t2@0, t6@0, S@32 -> 48.
// Head 64. Live per op: op0 t0+t2 = 64, op1 t2+t3+S = 64, op2 t3+t6 = 32.
Graph TinyGraph() {
  Graph g;
  const int32_t t0 = g.AddTensor(DType::kInt8, MakeShape({1, 4, 4, 2}));
  const int32_t t1 = g.AddTensor(DType::kInt8, MakeShape({1, 3, 3, 2}), true);
  const int32_t t2 = g.AddTensor(DType::kInt8, MakeShape({1, 4, 4, 2}));
  const int32_t t3 = g.AddTensor(DType::kInt8, MakeShape({1, 2}));
  const int32_t t4 = g.AddTensor(DType::kInt8, MakeShape({3, 2}), true);
  const int32_t t5 = g.AddTensor(DType::kInt32, MakeShape({3}), true);
  const int32_t t6 = g.AddTensor(DType::kInt8, MakeShape({1, 3}));
  Op dw;
  dw.kind = OpKind::kDepthwiseConv2D;
  dw.inputs = {t0, t1, -1};
  dw.output = t2;
  dw.kernel_h = dw.kernel_w = 3;
  dw.pad_top = dw.pad_left = 1;
  Op mean;
  mean.kind = OpKind::kMean;
  mean.inputs = {t2, -1, -1};
  mean.output = t3;
  mean.kernel_h = mean.kernel_w = 4;
  Op fc;
  fc.kind = OpKind::kFullyConnected;
  fc.inputs = {t3, t4, t5};
  fc.output = t6;
  g.ops = {dw, mean, fc};
  g.inputs = {t0};
  g.outputs = {t6};
  return g;
}

TEST(TflmPlanner, HandWorkedGraph) {
  const Graph g = TinyGraph();
  const MemoryPlan p = MakeTflmPlanner()->Plan(g);
  EXPECT_EQ(p.planner, "tflm");
  EXPECT_EQ(p.arena_bytes, 64);
  EXPECT_EQ(p.scratch_bytes, 0);
  EXPECT_EQ(p.peak_sram_bytes, 64);
  ASSERT_EQ(p.buffers.size(), 5u);
  // AddBuffer order: tensors by index, then scratch.
  EXPECT_EQ(p.buffers[0].tensor, 0);
  EXPECT_EQ(p.buffers[1].tensor, 2);
  EXPECT_EQ(p.buffers[2].tensor, 3);
  EXPECT_EQ(p.buffers[3].tensor, 6);
  EXPECT_EQ(p.buffers[4].tensor, -1);
  EXPECT_EQ(p.buffers[4].op, 1);
  const int64_t offsets[] = {32, 0, 48, 0, 32};
  const int64_t sizes[] = {32, 32, 16, 16, 16};
  const int32_t firsts[] = {0, 0, 1, 2, 1};
  const int32_t lasts[] = {0, 1, 2, 2, 1};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(p.buffers[i].offset, offsets[i]) << i;
    EXPECT_EQ(p.buffers[i].size, sizes[i]) << i;
    EXPECT_EQ(p.buffers[i].first_op, firsts[i]) << i;
    EXPECT_EQ(p.buffers[i].last_op, lasts[i]) << i;
  }
  ASSERT_EQ(p.ops.size(), 3u);
  EXPECT_EQ(p.ops[0].live_bytes, 64);
  EXPECT_EQ(p.ops[1].live_bytes, 64);
  EXPECT_EQ(p.ops[2].live_bytes, 32);
  EXPECT_EQ(p.ops[1].scratch_bytes, 8);
  EXPECT_EQ(p.ops[0].scratch_bytes, 0);
  for (const OpPlan& o : p.ops) EXPECT_EQ(o.overlap, Overlap::kNone);
  EXPECT_NO_THROW(p.CheckConsistent(g));
  ExpectNoLiveOverlap(p);
  EXPECT_NE(p.FindTensor(2), nullptr);
  EXPECT_EQ(p.FindTensor(1), nullptr);  // constants are not planned
}

TEST(CmsisPlanner, TinyGraphScratch) {
  // 3x3 depthwise with padding 1 -> arm_depthwise_conv_3x3_s8, no buffer;
  // MEAN stays the reference kernel (8 B); FC asks nothing.
  const Graph g = TinyGraph();
  const MemoryPlan p = MakeCmsisPlanner()->Plan(g);
  EXPECT_EQ(p.planner, "cmsis");
  EXPECT_EQ(p.ops[0].scratch_bytes, 0);
  EXPECT_EQ(p.ops[1].scratch_bytes, 8);
  EXPECT_EQ(p.ops[2].scratch_bytes, 0);
  EXPECT_EQ(p.arena_bytes, 64);
  EXPECT_NO_THROW(p.CheckConsistent(g));
}

// TFLM reports a 161,472-byte arena head for this model on a 32-bit MCU
// (float input, QUANTIZE, PAD, ..., MEAN x2, FULLY_CONNECTED, DEQUANTIZE).
// The peak is op 6, PAD [1,40,40,48] -> [1,42,42,48]: 76,800 + 84,672 bytes,
// and nothing else is live there.
TEST(TflmPlanner, Vww1HeadIs161472) {
  const Graph g = ReadTflite(kVww1);
  const MemoryPlan p = MakeTflmPlanner()->Plan(g);
  EXPECT_EQ(p.arena_bytes, 161472);
  EXPECT_EQ(p.peak_sram_bytes, 161472);
  EXPECT_EQ(p.scratch_bytes, 0);
  ASSERT_EQ(p.ops.size(), g.ops.size());
  EXPECT_EQ(MaxLive(p), 161472);
  EXPECT_EQ(g.ops[6].kind, OpKind::kPad);
  EXPECT_EQ(p.ops[6].live_bytes, 76800 + 84672);
  // Reference kernels: only the two int8 MEANs (ops 59, 60) request scratch,
  // [1,160,3] * 4 = 1,920 and [1,160] * 4 = 640 bytes.
  int64_t scratch = 0;
  for (const OpPlan& o : p.ops) scratch += o.scratch_bytes;
  EXPECT_EQ(scratch, 1920 + 640);
  EXPECT_EQ(p.ops[59].scratch_bytes, 1920);
  EXPECT_EQ(p.ops[60].scratch_bytes, 640);
  // 64 activation tensors (incl. the float input and output) + 2 scratch.
  EXPECT_EQ(p.buffers.size(), 66u);
  EXPECT_NO_THROW(p.CheckConsistent(g));
  ExpectNoLiveOverlap(p);
}

// CMSIS-NN (DSP, GCC) requests on vww1, worked out from the buffer-size
// functions cited in planner_cmsis.cc:
//   op 2  CONV 3x3x3 (first conv):      2 * align4(27) * 2     =    112
//   op 19 DW 7x7, 48 ch:                48 * 49 * 2            =  4,704
//   op 26 DW 5x5, 120 ch:               120 * 25 * 2           =  6,000
//   op 31 DW 7x7, 144 ch:               144 * 49 * 2           = 14,112
//   op 34 DW 7x7, 240 ch:               240 * 49 * 2           = 23,520
//   op 45 DW 5x5, 240 ch:               240 * 25 * 2           = 12,000
//   op 56 DW 7x7, 288 ch:               288 * 49 * 2           = 28,224
//   ops 59, 60 MEAN (reference):        1,920 and 640
// 3x3 depthwise convs all have padding <= 1 (arm_depthwise_conv_3x3_s8) and
// 1x1 convs use arm_convolve_1x1_s8_fast: no buffer. Each request lives only
// during its op, and the largest (28 KB at op 56, 3x3 spatial) falls where
// the activations are small, so the head stays at PAD's 161,472 bytes.
TEST(CmsisPlanner, Vww1) {
  const Graph g = ReadTflite(kVww1);
  const MemoryPlan p = MakeCmsisPlanner()->Plan(g);
  EXPECT_EQ(p.arena_bytes, 161472);
  EXPECT_EQ(p.peak_sram_bytes, 161472);
  EXPECT_EQ(p.scratch_bytes, 0);
  const std::vector<std::pair<int, int64_t>> expected = {{2, 112},     {19, 4704},  {26, 6000},
                                                         {31, 14112},  {34, 23520}, {45, 12000},
                                                         {56, 28224},  {59, 1920},  {60, 640}};
  int64_t total = 0;
  for (const OpPlan& o : p.ops) total += o.scratch_bytes;
  int64_t expected_total = 0;
  for (const auto& [op, bytes] : expected) {
    EXPECT_EQ(p.ops[op].scratch_bytes, bytes) << "op " << op;
    expected_total += bytes;
  }
  EXPECT_EQ(total, expected_total);
  EXPECT_EQ(p.buffers.size(), 64u + expected.size());
  EXPECT_NO_THROW(p.CheckConsistent(g));
  ExpectNoLiveOverlap(p);
}

TEST(TflmPlanner, WorksOnALoweredArch) {
  const Graph g = LowerArch(LoadArch(kZoo + "mcunet-5fps_imagenet.json"));
  for (const auto& planner : {MakeTflmPlanner(), MakeCmsisPlanner()}) {
    const MemoryPlan p = planner->Plan(g);
    SCOPED_TRACE(p.planner);
    ASSERT_EQ(p.ops.size(), g.ops.size());
    EXPECT_GT(p.arena_bytes, 0);
    EXPECT_EQ(p.peak_sram_bytes, p.arena_bytes);
    // The head can never be below the bytes live at one op, nor above the
    // sum of all buffers.
    int64_t sum = 0;
    for (const BufferPlacement& b : p.buffers) sum += b.size;
    EXPECT_GE(p.arena_bytes, MaxLive(p));
    EXPECT_LE(p.arena_bytes, sum);
    EXPECT_NO_THROW(p.CheckConsistent(g));
    ExpectNoLiveOverlap(p);
    // Every planned tensor is an activation, every size 16-aligned.
    for (const BufferPlacement& b : p.buffers) {
      EXPECT_EQ(b.size % 16, 0);
      if (b.tensor >= 0) EXPECT_FALSE(g.tensors[b.tensor].is_constant);
    }
  }
  // The first conv is k x k with C_in = 3: CMSIS-NN asks for an im2col buffer.
  const MemoryPlan cmsis = MakeCmsisPlanner()->Plan(g);
  ASSERT_EQ(g.ops[0].kind, OpKind::kConv2D);
  EXPECT_EQ(cmsis.ops[0].scratch_bytes,
            2 * ((g.ops[0].kernel_h * g.ops[0].kernel_w * 3 + 3) / 4 * 4) * 2);
}

TEST(TflmPlanner, ReusingAPlanGivesTheSameResult) {
  const Graph vww = ReadTflite(kVww1);
  const Graph tiny = TinyGraph();
  const auto planner = MakeTflmPlanner();
  MemoryPlan p;
  planner->Plan(vww, &p);
  const MemoryPlan fresh = planner->Plan(vww);
  planner->Plan(tiny, &p);  // smaller graph into the same plan
  EXPECT_EQ(p.arena_bytes, 64);
  EXPECT_EQ(p.buffers.size(), 5u);
  planner->Plan(vww, &p);
  ASSERT_EQ(p.buffers.size(), fresh.buffers.size());
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    EXPECT_EQ(p.buffers[i].offset, fresh.buffers[i].offset);
    EXPECT_EQ(p.buffers[i].size, fresh.buffers[i].size);
  }
  EXPECT_EQ(p.arena_bytes, 161472);
}

}  // namespace
}  // namespace mcunet
