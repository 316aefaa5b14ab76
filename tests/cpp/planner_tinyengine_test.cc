// The tinyengine planner: overlap formulas against a simulated kernel, plans
// checked byte by byte by simulating every kernel's read/write order, the
// vww1 figure against TinyEngine's, and the model zoo against the published
// TinyEngine SRAM column.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "cost/planners.h"
#include "mcunet/arch.h"
#include "mcunet/error.h"
#include "mcunet/graph.h"
#include "mcunet/lower.h"
#include "mcunet/memory_plan.h"
#include "mcunet/passes.h"
#include "mcunet/tflite_reader.h"

namespace mcunet {
namespace {

const std::string kVww1 = MCUNET_TEST_DATA "/mcunet-vww1.tflite";
const std::string kZoo = MCUNET_TEST_DATA "/zoo/";

// ---- 1x1 conv overlap formulas vs a simulated kernel -----------------------

// Runs a 1x1 conv over `n` pixels on a byte array: stage input pixel p, then
// write output pixel p, in the order of `dir`. True iff every input byte is
// read before anything overwrites it.
bool SimulatePointwise(Overlap dir, int64_t in, int64_t out, int64_t a, int64_t b, int64_t n) {
  const int64_t lo = std::min(in, out);
  const int64_t hi = std::max(in + a * n, out + b * n);
  std::vector<int64_t> mem(hi - lo, 0);
  for (int64_t i = 0; i < a * n; ++i) mem[in - lo + i] = i + 1;
  for (int64_t step = 0; step < n; ++step) {
    const int64_t p = dir == Overlap::kPointwiseForward ? step : n - 1 - step;
    for (int64_t i = 0; i < a; ++i) {
      if (mem[in - lo + a * p + i] != a * p + i + 1) return false;
    }
    for (int64_t i = 0; i < b; ++i) mem[out - lo + b * p + i] = -1;
  }
  return true;
}

TEST(PointwiseOverlap, FormulaMatchesSimulatedKernelExactly) {
  const int64_t in = 100;
  int checked = 0;
  for (Overlap dir : {Overlap::kPointwiseForward, Overlap::kPointwiseReverse}) {
    for (int64_t a = 1; a <= 6; ++a) {
      for (int64_t b = 1; b <= 6; ++b) {
        for (int64_t n = 1; n <= 7; ++n) {
          for (int64_t out = in - b * n - 3; out <= in + a * n + 3; ++out) {
            ASSERT_EQ(PointwiseOverlapSafe(dir, in, out, a, b, n), SimulatePointwise(dir, in, out, a, b, n))
                << OverlapName(dir) << " a=" << a << " b=" << b << " n=" << n << " out-in=" << out - in;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(PointwiseOverlap, AlignedPlacementsAreSafe) {
  // Start-aligned: forward for projections, reverse for expansions; end-aligned
  // the other way round.
  const int64_t n = 1600, in = 5000;
  EXPECT_TRUE(PointwiseOverlapSafe(Overlap::kPointwiseForward, in, in, 48, 8, n));
  EXPECT_FALSE(PointwiseOverlapSafe(Overlap::kPointwiseReverse, in, in, 48, 8, n));
  EXPECT_TRUE(PointwiseOverlapSafe(Overlap::kPointwiseReverse, in, in, 8, 48, n));
  EXPECT_FALSE(PointwiseOverlapSafe(Overlap::kPointwiseForward, in, in, 8, 48, n));
  EXPECT_TRUE(PointwiseOverlapSafe(Overlap::kPointwiseReverse, in, in + 40 * n, 48, 8, n));
  EXPECT_TRUE(PointwiseOverlapSafe(Overlap::kPointwiseForward, in, in - 40 * n, 8, 48, n));
  // The slack the formulas allow beyond alignment, and one byte past it.
  EXPECT_TRUE(PointwiseOverlapSafe(Overlap::kPointwiseForward, in, in + 40, 48, 8, n));
  EXPECT_FALSE(PointwiseOverlapSafe(Overlap::kPointwiseForward, in, in + 41, 48, 8, n));
  EXPECT_TRUE(PointwiseOverlapSafe(Overlap::kPointwiseReverse, in, in - 40, 8, 48, n));
  EXPECT_FALSE(PointwiseOverlapSafe(Overlap::kPointwiseReverse, in, in - 41, 8, 48, n));
}

// ---- Whole-plan checks ---------------------------------------------------------

int64_t Channels(const Shape& s) { return s.rank > 0 ? s.dims[s.rank - 1] : 1; }

// Executes the plan on a shadow arena, every kernel in the read/write order of
// the overlap contract (mcunet/passes.h), and fails if a kernel reads a byte
// that no longer holds what it should, or if a tensor still needed later is
// damaged after an op. Also checks the recorded overlaps' geometry.
void SimulatePlan(const Graph& g, const MemoryPlan& p) {
  std::vector<int64_t> arena(p.arena_bytes, 0);
  auto tag = [](int32_t t, int64_t i) { return (int64_t{t} + 1) << 32 | i; };
  auto buf = [&](int32_t t) -> const BufferPlacement& {
    const BufferPlacement* b = p.FindTensor(t);
    EXPECT_NE(b, nullptr) << "tensor " << t << " is not planned";
    static const BufferPlacement kNone;
    return b ? *b : kNone;
  };
  int failures = 0;
  auto read = [&](int32_t t, int64_t i, int k) {
    const BufferPlacement& b = buf(t);
    if (arena[b.offset + i] != tag(t, i) && failures++ < 5) {
      ADD_FAILURE() << "op " << k << " (" << OpKindName(g.ops[k].kind) << ") reads byte " << i << " of tensor " << t
                    << " after it was overwritten";
    }
  };
  auto write = [&](int32_t t, int64_t i) { arena[buf(t).offset + i] = tag(t, i); };
  auto planned = [&](int32_t t) { return t >= 0 && !g.tensors[t].is_constant; };

  for (int32_t t : g.inputs) {
    for (int64_t i = 0; i < g.tensors[t].bytes(); ++i) write(t, i);
  }
  for (int k = 0; k < static_cast<int>(g.ops.size()); ++k) {
    const Op& op = g.ops[k];
    const OpPlan& plan = p.ops[k];
    const int32_t in = op.inputs[0], out = op.output;
    const int64_t elem = DTypeSize(g.tensors[out].dtype);
    if (plan.overlap != Overlap::kNone) {
      EXPECT_EQ(buf(plan.overlap_input).last_op, k) << "op " << k << " overlaps an input that lives on";
    }
    switch (plan.overlap) {
      case Overlap::kInPlaceDepthwise: {
        ASSERT_EQ(op.kind, OpKind::kDepthwiseConv2D);
        ASSERT_EQ(plan.overlap_input, in);
        EXPECT_EQ(buf(in).offset, buf(out).offset);
        const int64_t c = Channels(g.tensors[in].shape) * elem;
        ASSERT_EQ(c, Channels(g.tensors[out].shape) * elem);
        const int64_t pin = g.tensors[in].bytes() / c, pout = g.tensors[out].bytes() / c;
        for (int64_t ch = 0; ch < c; ++ch) {
          for (int64_t q = 0; q < pin; ++q) read(in, q * c + ch, k);
          for (int64_t q = 0; q < pout; ++q) write(out, q * c + ch);
        }
        break;
      }
      case Overlap::kPointwiseForward:
      case Overlap::kPointwiseReverse:
      case Overlap::kNone:
        if (op.kind == OpKind::kPointwiseConv2D) {
          if (plan.overlap != Overlap::kNone) ASSERT_EQ(plan.overlap_input, in);
          const int64_t a = Channels(g.tensors[in].shape) * DTypeSize(g.tensors[in].dtype);
          const int64_t b = Channels(g.tensors[out].shape) * elem;
          const int64_t n = g.tensors[out].bytes() / b;
          if (plan.overlap != Overlap::kNone) {
            EXPECT_TRUE(PointwiseOverlapSafe(plan.overlap, buf(in).offset, buf(out).offset, a, b, n)) << "op " << k;
          }
          for (int64_t s = 0; s < n; ++s) {
            const int64_t px = plan.overlap == Overlap::kPointwiseReverse ? n - 1 - s : s;
            for (int64_t i = 0; i < a; ++i) read(in, px * a + i, k);
            for (int64_t i = 0; i < b; ++i) write(out, px * b + i);
          }
          break;
        }
        ASSERT_EQ(plan.overlap, Overlap::kNone) << "op " << k << " " << OpKindName(op.kind);
        if (op.kind == OpKind::kAdd) {
          for (int64_t i = 0; i < g.tensors[out].bytes(); ++i) {
            read(op.inputs[0], i, k);
            read(op.inputs[1], i, k);
            write(out, i);
          }
          break;
        }
        for (int32_t t : op.inputs) {
          if (!planned(t)) continue;
          for (int64_t i = 0; i < g.tensors[t].bytes(); ++i) read(t, i, k);
        }
        for (int64_t i = 0; i < g.tensors[out].bytes(); ++i) write(out, i);
        break;
      case Overlap::kElementwise: {
        ASSERT_TRUE(op.kind == OpKind::kAdd || op.kind == OpKind::kReshape);
        EXPECT_EQ(buf(plan.overlap_input).offset, buf(out).offset);
        EXPECT_EQ(buf(plan.overlap_input).size, buf(out).size);
        const int n_in = op.kind == OpKind::kAdd ? 2 : 1;
        for (int64_t i = 0; i < g.tensors[out].bytes(); ++i) {
          for (int j = 0; j < n_in; ++j) read(op.inputs[j], i, k);
          write(out, i);
        }
        break;
      }
    }
    // Every tensor that is still needed must be intact.
    for (const BufferPlacement& b : p.buffers) {
      if (b.tensor < 0 || b.first_op > k || b.last_op <= k) continue;
      for (int64_t i = 0; i < b.size; ++i) {
        if (arena[b.offset + i] != tag(b.tensor, i) && failures++ < 5) {
          ADD_FAILURE() << "after op " << k << " (" << OpKindName(op.kind) << ") byte " << i << " of tensor "
                        << b.tensor << " (needed until op " << b.last_op << ") is damaged";
          break;
        }
      }
    }
  }
}

// Bytes that must coexist at each op given the overlaps the planner may use,
// derived independently of the planner.
int64_t LowerBound(const Graph& g) {
  const int n_ops = static_cast<int>(g.ops.size());
  std::vector<int> first(g.tensors.size(), -1), last(g.tensors.size(), -1);
  for (int32_t t : g.inputs) first[t] = last[t] = 0;
  for (int k = 0; k < n_ops; ++k) {
    for (int32_t t : g.ops[k].inputs) {
      if (t >= 0 && !g.tensors[t].is_constant) last[t] = k;
    }
    first[g.ops[k].output] = last[g.ops[k].output] = k;
  }
  std::vector<char> is_output(g.tensors.size(), 0);
  for (int32_t t : g.outputs) last[t] = n_ops - 1, is_output[t] = 1;
  int64_t bound = 0;
  for (int k = 0; k < n_ops; ++k) {
    const Op& op = g.ops[k];
    int64_t sum = 0;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (first[t] >= 0 && first[t] <= k && last[t] >= k) sum += g.tensors[t].bytes();
    }
    auto dies = [&](int32_t t) { return t >= 0 && last[t] == k && !is_output[t] && t != op.output; };
    const int64_t out = g.tensors[op.output].bytes();
    int64_t saving = 0;
    const int32_t in = op.inputs[0];
    if (op.kind == OpKind::kDepthwiseConv2D && dies(in) &&
        Channels(g.tensors[in].shape) == Channels(g.tensors[op.output].shape)) {
      saving = out;
    } else if (op.kind == OpKind::kPointwiseConv2D && dies(in)) {
      saving = std::min(out, g.tensors[in].bytes());
    } else if (op.kind == OpKind::kAdd && (dies(op.inputs[0]) || dies(op.inputs[1]))) {
      saving = out;
    } else if (op.kind == OpKind::kReshape && dies(in)) {
      saving = out;
    }
    bound = std::max(bound, sum - saving);
  }
  return bound;
}

MemoryPlan PlanChecked(const Graph& g) {
  MemoryPlan p = MakeTinyEnginePlanner()->Plan(g);
  EXPECT_EQ(p.planner, "tinyengine");
  EXPECT_EQ(p.ops.size(), g.ops.size());
  EXPECT_NO_THROW(p.CheckConsistent(g)) << p.Timeline(g);
  int64_t max_scratch = 0, arena = 0;
  for (const OpPlan& o : p.ops) {
    max_scratch = std::max(max_scratch, o.scratch_bytes);
    EXPECT_LE(o.live_bytes, p.arena_bytes);
  }
  for (const BufferPlacement& b : p.buffers) {
    EXPECT_GE(b.tensor, 0);
    EXPECT_GE(b.offset, 0);
    arena = std::max(arena, b.offset + b.size);
  }
  EXPECT_EQ(p.scratch_bytes, max_scratch);
  EXPECT_EQ(p.arena_bytes, arena);
  EXPECT_EQ(p.peak_sram_bytes, p.arena_bytes + p.scratch_bytes);
  EXPECT_GE(p.arena_bytes, LowerBound(g));
  SimulatePlan(g, p);
  return p;
}

// Scratch that would remain outside the arena if each op's scratch went into
// a free gap of the arena at that op (not done: the contract is one shared
// buffer outside the arena). Printed to show what that would save.
int64_t ScratchOutsideFreeGaps(const Graph& g, const MemoryPlan& p) {
  int64_t outside = 0;
  for (int k = 0; k < static_cast<int>(g.ops.size()); ++k) {
    std::vector<std::pair<int64_t, int64_t>> used;
    for (const BufferPlacement& b : p.buffers) {
      if (b.first_op <= k && k <= b.last_op) used.push_back({b.offset, b.offset + b.size});
    }
    std::sort(used.begin(), used.end());
    int64_t end = 0, gap = 0;
    for (const auto& [lo, hi] : used) {
      gap = std::max(gap, lo - end);
      end = std::max(end, hi);
    }
    gap = std::max(gap, p.arena_bytes - end);
    if (p.ops[k].scratch_bytes > gap) outside = std::max(outside, p.ops[k].scratch_bytes);
  }
  return outside;
}

// ---- Hand-built graphs ---------------------------------------------------------

int32_t Act(Graph* g, int h, int c) { return g->AddTensor(DType::kInt8, MakeShape({1, h, h, c})); }

Op ConvOp(Graph* g, OpKind kind, int32_t in, int32_t out, int k, int stride) {
  Op op;
  op.kind = kind;
  op.inputs[0] = in;
  op.inputs[1] = g->AddTensor(DType::kInt8, MakeShape({1, k, k, 1}), true);
  op.output = out;
  op.kernel_h = op.kernel_w = k;
  op.stride_h = op.stride_w = stride;
  op.pad_top = op.pad_left = k / 2;
  return op;
}

// input -> conv -> [expand -> dw -> project -> ADD(skip)] -> mean.
Graph ResidualBlockGraph() {
  Graph g;
  g.name = "residual";
  const int32_t x = Act(&g, 16, 3);
  g.inputs.push_back(x);
  const int32_t skip = Act(&g, 8, 16), e = Act(&g, 8, 96), d = Act(&g, 8, 96), pr = Act(&g, 8, 16);
  const int32_t y = Act(&g, 8, 16), m = g.AddTensor(DType::kInt8, MakeShape({1, 16}));
  g.ops.push_back(ConvOp(&g, OpKind::kConv2D, x, skip, 3, 2));
  g.ops.push_back(ConvOp(&g, OpKind::kPointwiseConv2D, skip, e, 1, 1));
  g.ops.push_back(ConvOp(&g, OpKind::kDepthwiseConv2D, e, d, 3, 1));
  g.ops.push_back(ConvOp(&g, OpKind::kPointwiseConv2D, d, pr, 1, 1));
  Op add;
  add.kind = OpKind::kAdd;
  add.inputs = {pr, skip, -1};
  add.output = y;
  g.ops.push_back(add);
  Op mean;
  mean.kind = OpKind::kMean;
  mean.inputs[0] = y;
  mean.output = m;
  g.ops.push_back(mean);
  g.outputs.push_back(m);
  g.Validate();
  return g;
}

TEST(TinyEnginePlanner, ResidualSkipStaysIntact) {
  const Graph g = ResidualBlockGraph();
  const MemoryPlan p = PlanChecked(g);
  const BufferPlacement* skip = p.FindTensor(1);
  ASSERT_NE(skip, nullptr);
  EXPECT_EQ(skip->first_op, 0);
  EXPECT_EQ(skip->last_op, 4);
  // The skip shares no byte with the block's tensors; the ADD may reuse it.
  for (int32_t t : {2, 3, 4}) {
    const BufferPlacement* b = p.FindTensor(t);
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->offset >= skip->offset + skip->size || skip->offset >= b->offset + b->size) << "tensor " << t << "\n"
                                                                                               << p.Timeline(g);
  }
  // Expand cannot overlap (its input lives on), DW is in place, project and
  // ADD overlap their dying inputs.
  EXPECT_EQ(p.ops[1].overlap, Overlap::kNone);
  EXPECT_EQ(p.ops[2].overlap, Overlap::kInPlaceDepthwise);
  EXPECT_NE(p.ops[3].overlap, Overlap::kNone);
  EXPECT_EQ(p.ops[4].overlap, Overlap::kElementwise);
  // Peak = skip + expanded tensor: 8*8*16 + 8*8*96.
  EXPECT_EQ(p.arena_bytes, 1024 + 6144);
  EXPECT_EQ(p.arena_bytes, LowerBound(g));
  // Scratch: the first conv's im2col (2 columns of int16: 2*2*3*3*3 = 108)
  // vs one DW output channel (64) vs two pixels of the project's input
  // widened to int16 (2*2*96 = 384).
  EXPECT_EQ(p.ops[0].scratch_bytes, 108);
  EXPECT_EQ(p.ops[2].scratch_bytes, 64);
  EXPECT_EQ(p.ops[3].scratch_bytes, 384);
  EXPECT_EQ(p.scratch_bytes, 384);
}

TEST(TinyEnginePlanner, ChainReusesEverything) {
  // 1x1 expansion then projection with no skip: each op needs only
  // max(input, output) bytes.
  Graph g;
  const int32_t x = Act(&g, 10, 8), e = Act(&g, 10, 48), d = Act(&g, 5, 48), pr = Act(&g, 5, 16);
  g.inputs.push_back(x);
  g.ops.push_back(ConvOp(&g, OpKind::kPointwiseConv2D, x, e, 1, 1));
  g.ops.push_back(ConvOp(&g, OpKind::kDepthwiseConv2D, e, d, 3, 2));
  g.ops.push_back(ConvOp(&g, OpKind::kPointwiseConv2D, d, pr, 1, 1));
  g.outputs.push_back(pr);
  const MemoryPlan p = PlanChecked(g);
  EXPECT_EQ(p.arena_bytes, 4800);
  EXPECT_EQ(p.ops[0].overlap == Overlap::kPointwiseReverse || p.ops[0].overlap == Overlap::kPointwiseForward, true);
  EXPECT_EQ(p.ops[1].overlap, Overlap::kInPlaceDepthwise);
  EXPECT_EQ(p.ops[1].scratch_bytes, 25);  // one output channel, 5x5
  EXPECT_EQ(p.ops[0].live_bytes, 4800);
}

TEST(TinyEnginePlanner, ReusesWarmPlanAndIsDeterministic) {
  const Graph g = ResidualBlockGraph();
  auto planner = MakeTinyEnginePlanner();
  MemoryPlan a, b;
  planner->Plan(g, &a);
  planner->Plan(ResidualBlockGraph(), &b);
  planner->Plan(g, &b);
  ASSERT_EQ(a.buffers.size(), b.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    EXPECT_EQ(a.buffers[i].offset, b.buffers[i].offset);
    EXPECT_EQ(a.buffers[i].tensor, b.buffers[i].tensor);
  }
  EXPECT_EQ(a.peak_sram_bytes, b.peak_sram_bytes);
}

// ---- vww1: the published TinyEngine figure ----------------------------------

TEST(FoldInt8Input, Vww1BecomesInt8EndToEnd) {
  const Graph raw = ReadTflite(kVww1);
  ASSERT_TRUE(NeedsInt8InputFold(raw));
  int pads = 0;
  for (const Op& op : raw.ops) pads += op.kind == OpKind::kPad;
  const Graph g = FoldInt8Input(raw);
  EXPECT_FALSE(NeedsInt8InputFold(g));
  g.Validate();
  // Tensor indices are kept; QUANTIZE, DEQUANTIZE and every PAD (each feeds
  // a conv) are gone.
  EXPECT_EQ(g.tensors.size(), raw.tensors.size());
  EXPECT_EQ(g.ops.size(), raw.ops.size() - 2 - pads);
  ASSERT_EQ(g.inputs.size(), 1u);
  const Tensor& in = g.tensors[g.inputs[0]];
  EXPECT_EQ(in.dtype, DType::kInt8);
  EXPECT_EQ(in.shape, MakeShape({1, 80, 80, 3}));
  EXPECT_FALSE(in.quant.empty());
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::kInt8);
  for (const Op& op : g.ops) {
    EXPECT_NE(op.kind, OpKind::kQuantize);
    EXPECT_NE(op.kind, OpKind::kDequantize);
    EXPECT_NE(op.kind, OpKind::kPad);
    EXPECT_GE(op.source_index, 0);
    if (op.kind != OpKind::kConv2D && op.kind != OpKind::kDepthwiseConv2D) continue;
    // The folded padding reproduces the output size: the bottom/right padding
    // it implies is within [0, kernel - 1].
    const Shape& is = g.tensors[op.inputs[0]].shape;
    const Shape& os = g.tensors[op.output].shape;
    const int bottom = (os[1] - 1) * op.stride_h + (op.kernel_h - 1) * op.dilation_h + 1 - is[1] - op.pad_top;
    const int right = (os[2] - 1) * op.stride_w + (op.kernel_w - 1) * op.dilation_w + 1 - is[2] - op.pad_left;
    EXPECT_GE(bottom, 0);
    EXPECT_LT(bottom, op.kernel_h);
    EXPECT_GE(right, 0);
    EXPECT_LT(right, op.kernel_w);
  }
  // The first conv reads the int8 input directly and pads in-kernel.
  const Op& conv = g.ops[0];
  EXPECT_EQ(conv.kind, OpKind::kConv2D);
  EXPECT_EQ(conv.inputs[0], g.inputs[0]);
  EXPECT_EQ(g.tensors[conv.output].shape, MakeShape({1, 40, 40, 16}));
  EXPECT_EQ(conv.padding, Padding::kSame);
  EXPECT_EQ(conv.pad_top, 1);
  EXPECT_EQ(conv.pad_left, 1);
}

// float [1,3,8,8] -> QUANTIZE -> TRANSPOSE -> PAD -> CONV_2D 3x3 VALID ->
// DEQUANTIZE, as a PyTorch-exported model looks.
Graph WrappedGraph(std::vector<int32_t> paddings) {
  Graph g;
  const int32_t f_in = g.AddTensor(DType::kFloat32, MakeShape({1, 3, 8, 8}));
  const int32_t q = g.AddTensor(DType::kInt8, MakeShape({1, 3, 8, 8}));
  const int32_t perm = g.AddTensor(DType::kInt32, MakeShape({4}), true);
  const int32_t tr = g.AddTensor(DType::kInt8, MakeShape({1, 8, 8, 3}));
  const int32_t pads = g.AddTensor(DType::kInt32, MakeShape({4, 2}), true);
  g.tensors[pads].data.resize(32);
  std::memcpy(g.tensors[pads].data.data(), paddings.data(), 32);
  const int32_t padded = g.AddTensor(DType::kInt8, MakeShape({1, 10, 10, 3}));
  const int32_t c = g.AddTensor(DType::kInt8, MakeShape({1, 8, 8, 4}));
  const int32_t f_out = g.AddTensor(DType::kFloat32, MakeShape({1, 8, 8, 4}));
  g.inputs.push_back(f_in);
  Op op;
  op.kind = OpKind::kQuantize;
  op.inputs = {f_in, -1, -1};
  op.output = q;
  g.ops.push_back(op);
  op.kind = OpKind::kTranspose;
  op.inputs = {q, perm, -1};
  op.output = tr;
  g.ops.push_back(op);
  op.kind = OpKind::kPad;
  op.inputs = {tr, pads, -1};
  op.output = padded;
  g.ops.push_back(op);
  Op conv = ConvOp(&g, OpKind::kConv2D, padded, c, 3, 1);
  conv.padding = Padding::kValid;
  conv.pad_top = conv.pad_left = 0;
  conv.source_index = 3;
  g.ops.push_back(conv);
  op = Op();
  op.kind = OpKind::kDequantize;
  op.inputs = {c, -1, -1};
  op.output = f_out;
  g.ops.push_back(op);
  g.outputs.push_back(f_out);
  g.Validate();
  return g;
}

TEST(FoldInt8Input, QuantizeTransposePadConvDequantize) {
  const Graph raw = WrappedGraph({0, 0, 1, 1, 1, 1, 0, 0});
  const Graph g = FoldInt8Input(raw);
  g.Validate();
  ASSERT_EQ(g.ops.size(), 1u);
  const Op& conv = g.ops[0];
  EXPECT_EQ(conv.kind, OpKind::kConv2D);
  EXPECT_EQ(conv.source_index, 3);
  EXPECT_EQ(g.inputs, std::vector<int32_t>{3});  // the transposed int8 NHWC tensor
  EXPECT_EQ(conv.inputs[0], 3);
  EXPECT_EQ(g.outputs, std::vector<int32_t>{6});
  EXPECT_EQ(conv.pad_top, 1);
  EXPECT_EQ(conv.pad_left, 1);
  EXPECT_EQ(conv.padding, Padding::kSame);
  const MemoryPlan p = PlanChecked(g);
  EXPECT_EQ(p.arena_bytes, 8 * 8 * 3 + 8 * 8 * 4);
  EXPECT_EQ(p.scratch_bytes, 2 * 2 * 3 * 3 * 3);
  // The unfolded graph plans too (float tensors, 4 bytes per element).
  PlanChecked(raw);
}

TEST(FoldInt8Input, RejectsPaddingOfChannels) {
  EXPECT_THROW(FoldInt8Input(WrappedGraph({0, 0, 1, 1, 1, 1, 0, 1})), InvalidInput);
}

TEST(FoldInt8Input, GraphWithoutWrappersIsUnchanged) {
  const Graph g = ResidualBlockGraph();
  EXPECT_FALSE(NeedsInt8InputFold(g));
  const Graph f = FoldInt8Input(g);
  EXPECT_EQ(f.ops.size(), g.ops.size());
  EXPECT_EQ(f.inputs, g.inputs);
  EXPECT_EQ(f.outputs, g.outputs);
}

TEST(TinyEnginePlanner, Vww1BeatsTinyEngine) {
  const Graph g = FoldInt8Input(ReadTflite(kVww1));
  const MemoryPlan p = PlanChecked(g);
  // Only tensors of the folded graph are planned: no float tensor.
  for (const BufferPlacement& b : p.buffers) EXPECT_EQ(g.tensors[b.tensor].dtype, DType::kInt8);
  int binding = 0;
  for (size_t k = 0; k < p.ops.size(); ++k) {
    if (p.ops[k].live_bytes > p.ops[binding].live_bytes) binding = static_cast<int>(k);
  }
  std::printf("%s", p.Timeline(g, 100).c_str());
  std::printf(
      "vww1 tinyengine: arena %lld + scratch %lld = peak %lld (TinyEngine 93,992); bound %lld; binding op %d; "
      "scratch outside free gaps %lld\n",
      static_cast<long long>(p.arena_bytes), static_cast<long long>(p.scratch_bytes),
      static_cast<long long>(p.peak_sram_bytes), static_cast<long long>(LowerBound(g)), binding,
      static_cast<long long>(ScratchOutsideFreeGaps(g, p)));
  EXPECT_LT(p.peak_sram_bytes, 93992);
  EXPECT_LE(p.peak_sram_bytes, 86000);
  // The binding ops: the 1x1 expansion 40x40x8 -> 40x40x48 (overlapping its
  // dying input: 76,800 instead of 12,800 + 76,800) and the stride-2 in-place
  // depthwise on that tensor. Scratch: one 40x40 output channel of the first
  // block's depthwise (1,600) is exceeded by two widened pixels of the
  // 480-channel projection's input (2*2*480 = 1,920).
  EXPECT_EQ(g.tensors[g.ops[3].output].shape, MakeShape({1, 40, 40, 48}));
  EXPECT_EQ(p.ops[3].live_bytes, 76800);
  EXPECT_NE(p.ops[3].overlap, Overlap::kNone);
  EXPECT_EQ(p.arena_bytes, 76800);
  EXPECT_EQ(p.scratch_bytes, 1920);
  EXPECT_EQ(p.peak_sram_bytes, 78720);
  EXPECT_EQ(p.arena_bytes, LowerBound(g));
}

TEST(TinyEnginePlanner, UnfoldedTfliteIsPlannedAsIs) {
  // The planner plans exactly what it is given (float input included).
  const Graph g = ReadTflite(kVww1);
  const MemoryPlan p = PlanChecked(g);
  const Graph folded = FoldInt8Input(g);
  EXPECT_GT(p.peak_sram_bytes, MakeTinyEnginePlanner()->Plan(folded).peak_sram_bytes);
}

// ---- The model zoo ----------------------------------------------------------------

struct ZooEntry {
  const char* file;
  double tinyengine_kb;  // published TinyEngine SRAM (KiB), 0 if none
  double analytic_kb;    // the original's analytic peak activation (KiB)
  int64_t arena;         // ours
  int64_t scratch;       // ours
};

const ZooEntry kZooEntries[] = {
    {"mcunet-5fps_imagenet.json", 0, 90.0, 73728, 2304},
    {"mcunet-256kb-1mb_imagenet.json", 242, 325.0, 179200, 6400},
    {"mcunet-512kb-2mb_imagenet.json", 456, 412.5, 307200, 6400},
    {"mbv2-w0.35-r144_imagenet.json", 308, 303.75, 248832, 5184},
    {"proxyless-w0.3-r176_imagenet.json", 292, 242.0, 216832, 7744},
};

TEST(TinyEnginePlanner, ZooBelowPublishedTinyEngine) {
  for (const ZooEntry& z : kZooEntries) {
    SCOPED_TRACE(z.file);
    const Graph g = LowerArch(LoadArch(kZoo + z.file));
    const MemoryPlan p = PlanChecked(g);
    const int64_t bound = LowerBound(g);
    std::printf(
        "%-36s arena %7lld + scratch %5lld = peak %7lld (%.1f KiB); bound %7lld (gap %lld); "
        "TinyEngine %.0f KiB, analytic %.2f KiB; scratch outside free gaps %lld\n",
        z.file, static_cast<long long>(p.arena_bytes), static_cast<long long>(p.scratch_bytes),
        static_cast<long long>(p.peak_sram_bytes), p.peak_sram_bytes / 1024.0, static_cast<long long>(bound),
        static_cast<long long>(p.arena_bytes - bound), z.tinyengine_kb, z.analytic_kb,
        static_cast<long long>(ScratchOutsideFreeGaps(g, p)));
    EXPECT_EQ(p.arena_bytes, bound);
    EXPECT_EQ(p.arena_bytes, z.arena);
    EXPECT_EQ(p.scratch_bytes, z.scratch);
    if (z.tinyengine_kb > 0) EXPECT_LT(p.peak_sram_bytes, z.tinyengine_kb * 1024);
  }
}

// ---- Random architectures of the MCUNet space -------------------------------

int MakeDivisible(double v, int d = 8) {
  const int r = std::max(d, static_cast<int>(v + d / 2.0) / d * d);
  return r < 0.9 * v ? r + d : r;
}

Arch RandomArch(std::mt19937& rng) {
  auto pick = [&](std::initializer_list<int> xs) {
    std::vector<int> v(xs);
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const double w = pick({2, 3, 4, 5, 6, 7, 8, 9, 10}) / 10.0;
  Arch a;
  a.name = "random";
  a.resolution = pick({48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224});
  a.num_classes = 1000;
  a.first_conv.out_channels = MakeDivisible(32 * w);
  int c = a.first_conv.out_channels;
  MBBlock first;
  first.in_channels = c;
  first.out_channels = MakeDivisible(16 * w);
  first.mid_channels = c;
  first.kernel = 3;
  a.blocks.push_back(first);
  c = first.out_channels;
  const int stage_c[] = {24, 40, 80, 96, 192, 320};
  const int stage_s[] = {2, 2, 2, 1, 2, 1};
  for (int s = 0; s < 6; ++s) {
    const int depth = s == 5 ? 1 : pick({2, 3, 4});
    for (int i = 0; i < depth; ++i) {
      MBBlock b;
      b.in_channels = c;
      b.out_channels = MakeDivisible(stage_c[s] * w);
      b.expand_ratio = pick({3, 4, 6});
      b.mid_channels = c * b.expand_ratio;
      b.kernel = pick({3, 5, 7});
      b.stride = i == 0 ? stage_s[s] : 1;
      b.residual = b.stride == 1 && b.in_channels == b.out_channels;
      a.blocks.push_back(b);
      c = b.out_channels;
    }
  }
  a.feature_mix_channels = pick({0, 1}) ? MakeDivisible(1280 * std::max(w, 1.0)) : 0;
  a.Validate();
  return a;
}

TEST(TinyEnginePlanner, RandomArchsAreCorrectAndReachTheBound) {
  std::mt19937 rng(2020);
  int at_bound = 0, n = 300;
  int64_t worst_gap = 0;
  for (int i = 0; i < n; ++i) {
    const Graph g = LowerArch(RandomArch(rng));
    SCOPED_TRACE(i);
    const MemoryPlan p = i < 12 ? PlanChecked(g) : MakeTinyEnginePlanner()->Plan(g);
    if (i >= 12) EXPECT_NO_THROW(p.CheckConsistent(g));
    const int64_t gap = p.arena_bytes - LowerBound(g);
    EXPECT_GE(gap, 0);
    at_bound += gap == 0;
    worst_gap = std::max(worst_gap, gap);
  }
  std::printf("random archs: %d / %d at the lower bound, worst gap %lld B\n", at_bound, n,
              static_cast<long long>(worst_gap));
  EXPECT_EQ(at_bound, n);
}

// Random graphs of 1x1 convs, depthwise convs and ADDs of any earlier tensor
// of the same shape (so several skips can be live at once), with random
// channel counts: harder than MCUNet blocks, to exercise the fallback search.
Graph RandomGraph(std::mt19937& rng) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Graph g;
  int h = uniform(2, 12);
  int32_t x = Act(&g, h, uniform(1, 24));
  g.inputs.push_back(x);
  std::vector<int32_t> seen{x};
  const int n_ops = uniform(3, 20);
  for (int k = 0; k < n_ops; ++k) {
    const int c = static_cast<int>(Channels(g.tensors[x].shape));
    const int kind = uniform(0, 11);
    int32_t y;
    if (kind >= 10) {
      // A general conv reading any earlier tensor: arbitrary lifetimes.
      const int32_t src = seen[uniform(0, static_cast<int>(seen.size()) - 1)];
      h = g.tensors[src].shape[1];
      y = Act(&g, h, uniform(1, 48));
      g.ops.push_back(ConvOp(&g, OpKind::kConv2D, src, y, 3, 1));
    } else if (kind < 4) {
      y = Act(&g, h, uniform(1, 48));
      g.ops.push_back(ConvOp(&g, OpKind::kPointwiseConv2D, x, y, 1, 1));
    } else if (kind < 6) {
      const int stride = h > 2 ? uniform(1, 2) : 1;
      h = ConvOutSize(h, stride);
      y = Act(&g, h, c);
      g.ops.push_back(ConvOp(&g, OpKind::kDepthwiseConv2D, x, y, 3, stride));
    } else {
      std::vector<int32_t> same;
      for (int32_t t : seen) {
        if (t != x && g.tensors[t].shape == g.tensors[x].shape) same.push_back(t);
      }
      if (same.empty()) {
        y = Act(&g, h, c);
        g.ops.push_back(ConvOp(&g, OpKind::kConv2D, x, y, 3, 1));
      } else {
        y = Act(&g, h, c);
        Op add;
        add.kind = OpKind::kAdd;
        add.inputs = {x, same[uniform(0, static_cast<int>(same.size()) - 1)], -1};
        if (uniform(0, 1)) std::swap(add.inputs[0], add.inputs[1]);
        add.output = y;
        g.ops.push_back(add);
      }
    }
    x = y;
    seen.push_back(y);
  }
  g.outputs.push_back(x);
  g.Validate();
  return g;
}

TEST(TinyEnginePlanner, RandomGraphsAreCorrect) {
  std::mt19937 rng(1);
  int at_bound = 0, n = 3000;
  int64_t gap_sum = 0, bound_sum = 0;
  for (int i = 0; i < n; ++i) {
    const Graph g = RandomGraph(rng);
    SCOPED_TRACE(i);
    const MemoryPlan p = PlanChecked(g);
    const int64_t bound = LowerBound(g);
    at_bound += p.arena_bytes == bound;
    gap_sum += p.arena_bytes - bound;
    bound_sum += bound;
    if (HasFailure()) {
      std::printf("%s", p.Timeline(g).c_str());
      break;
    }
  }
  std::printf("random graphs: %d / %d at the lower bound, total gap %.2f%% of the bounds\n", at_bound, n,
              100.0 * gap_sum / bound_sum);
}

TEST(TinyEnginePlanner, Throughput) {
  std::vector<Arch> archs;
  for (const ZooEntry& z : kZooEntries) archs.push_back(LoadArch(kZoo + z.file));
  std::mt19937 rng(7);
  for (int i = 0; i < 15; ++i) archs.push_back(RandomArch(rng));
  auto planner = MakeTinyEnginePlanner();
  Graph g;
  MemoryPlan p;
  int64_t sink = 0;
  for (const Arch& a : archs) {  // warm up
    LowerArch(a, &g);
    planner->Plan(g, &p);
  }
  // Process CPU time, so that other jobs on the machine do not count.
  const int iters = 20000;
  const std::clock_t t0 = std::clock();
  for (int i = 0; i < iters; ++i) {
    LowerArch(archs[i % archs.size()], &g);
    planner->Plan(g, &p);
    sink += p.peak_sram_bytes;
  }
  const double s = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
  std::printf("lower+plan: %.0f evaluations/s per core (%.2f us each, checksum %lld)\n", iters / s, 1e6 * s / iters,
              static_cast<long long>(sink));
  EXPECT_GT(sink, 0);
}

}  // namespace
}  // namespace mcunet
