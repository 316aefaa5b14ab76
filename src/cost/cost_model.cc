#include "mcunet/cost_model.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mcunet/error.h"
#include "mcunet/lower.h"
#include "mcunet/passes.h"

namespace mcunet {

ParamCounts CountArch(const Arch& a) {
  // Conv weights, plus BatchNorm's weight and bias (2 per channel) after every
  // conv, plus the classifier's weight and bias: the original's count.
  ParamCounts c;
  int64_t conv_weights = 0;
  int64_t bn = 0;
  int h = a.resolution;
  auto conv = [&](int64_t cin_per_group, int64_t cout, int k, int out_h) {
    conv_weights += cin_per_group * cout * k * k;
    bn += 2 * cout;
    c.macs += int64_t{out_h} * out_h * cin_per_group * cout * k * k;
  };
  h = ConvOutSize(h, a.first_conv.stride);
  conv(a.in_channels, a.first_conv.out_channels, a.first_conv.kernel, h);
  for (const MBBlock& b : a.blocks) {
    if (b.has_expand()) conv(b.in_channels, b.mid_channels, 1, h);
    h = ConvOutSize(h, b.stride);
    conv(1, b.mid_channels, b.kernel, h);
    conv(b.mid_channels, b.out_channels, 1, h);
  }
  if (a.feature_mix_channels > 0) conv(a.blocks.empty() ? a.first_conv.out_channels : a.blocks.back().out_channels,
                                       a.feature_mix_channels, 1, h);
  const int64_t fc = int64_t{a.last_channels()} * a.num_classes;
  c.macs += fc;
  c.params_folded = conv_weights + fc + a.num_classes;
  c.params = c.params_folded + bn;
  return c;
}

namespace {

bool HasParams(OpKind k) {
  return k == OpKind::kConv2D || k == OpKind::kPointwiseConv2D || k == OpKind::kDepthwiseConv2D ||
         k == OpKind::kFullyConnected;
}

int64_t OutputChannels(const Graph& g, const Op& op) {
  const Shape& s = g.tensors[op.output].shape;
  return s.rank > 0 ? s.dims[s.rank - 1] : 1;
}

}  // namespace

ParamCounts CountGraph(const Graph& g) {
  ParamCounts c;
  for (const Op& op : g.ops) {
    c.macs += op.macs;
    if (!HasParams(op.kind)) continue;
    if (op.inputs[1] >= 0) c.params_folded += g.tensors[op.inputs[1]].shape.elements();
    if (op.kind == OpKind::kFullyConnected && op.inputs[2] >= 0) {
      c.params_folded += g.tensors[op.inputs[2]].shape.elements();
    }
  }
  c.params = c.params_folded;
  return c;
}

// Code size per kernel kind, bytes of Flash, measured: the linked ELF of
// mcunet-vww1 for stm32f746 (firmware/, arm-none-eabi-gcc 12.2, default -O2,
// Armv7E-M DSP kernels), arm-none-eabi-nm sizes grouped by kernel kind
// (firmware/README.md "Flash"): runtime 3,125 + shared requant_slow 136 +
// alignment padding 835; params structs 2,676 + invoke 1,728 over 57 ops;
// pointwise 1,668; depthwise 9,414 over 3 kernel sizes; first conv 2,390.
namespace code_size {
constexpr int64_t kRuntime = 4096;         // start-up, vectors, main's report, console, memcpy/memset, padding
constexpr int64_t kPerOp = 77;             // its params struct (int16 fields) + its call in <prefix>_invoke
constexpr int64_t kConv = 2390;            // im2col + SMLAD conv, per kernel size used
constexpr int64_t kPointwise = 1668;       // pixel pairs widened to int16 + the Thumb-2 2x2 tile, C for the rest
constexpr int64_t kDepthwise = 3138;       // per kernel size used (padded-row kernel for both strides + Thumb-2 rows)
constexpr int64_t kAdd = 870;
constexpr int64_t kPool = 240;             // MEAN / AVERAGE_POOL_2D with its requantisation
constexpr int64_t kFullyConnected = 272;
constexpr int64_t kOther = 256;
}  // namespace code_size

FlashBreakdown EstimateFlash(const Graph& g) {
  FlashBreakdown f;
  f.code_bytes = code_size::kRuntime;
  // Bit set of kernel variants already counted: kind x kernel size.
  uint64_t seen[16] = {};
  for (const Op& op : g.ops) {
    f.code_bytes += code_size::kPerOp;
    if (HasParams(op.kind)) {
      const Tensor& w = g.tensors[op.inputs[1]];
      f.weight_bytes += w.shape.elements();  // int8, 1 byte each
      const int64_t channels = OutputChannels(g, op);
      f.bias_bytes += 4 * channels;
      f.quant_bytes += 5 * channels;  // int32 multiplier + int8 shift (codegen's shift8)
    }
    const int kind = static_cast<int>(op.kind);
    const int variant = std::min(op.kernel_h, 63);
    if (seen[kind] & (uint64_t{1} << variant)) continue;
    seen[kind] |= uint64_t{1} << variant;
    switch (op.kind) {
      case OpKind::kConv2D: f.code_bytes += code_size::kConv; break;
      case OpKind::kPointwiseConv2D: f.code_bytes += code_size::kPointwise; break;
      case OpKind::kDepthwiseConv2D: f.code_bytes += code_size::kDepthwise; break;
      case OpKind::kAdd: f.code_bytes += code_size::kAdd; break;
      case OpKind::kMean:
      case OpKind::kAveragePool2D: f.code_bytes += code_size::kPool; break;
      case OpKind::kFullyConnected: f.code_bytes += code_size::kFullyConnected; break;
      default: f.code_bytes += code_size::kOther; break;
    }
  }
  return f;
}

CostEvaluator::CostEvaluator(const std::string& planner)
    : planner_(MakePlanner(planner)), fold_int8_io_(planner_->name() == "tinyengine") {}
CostEvaluator::~CostEvaluator() = default;
CostEvaluator::CostEvaluator(CostEvaluator&&) noexcept = default;

const CostReport& CostEvaluator::Evaluate(const Arch& arch) {
  LowerArch(arch, &report_.graph);
  planner_->Plan(report_.graph, &report_.plan);
  report_.counts = CountArch(arch);
  report_.flash = EstimateFlash(report_.graph);
  return report_;
}

const CostReport& CostEvaluator::Evaluate(const Graph& g) {
  if (&g != &report_.graph) {
    if (fold_int8_io_ && NeedsInt8InputFold(g)) {
      FoldInt8Input(g, &report_.graph);
    } else {
      report_.graph = g;
    }
  }
  planner_->Plan(report_.graph, &report_.plan);
  report_.counts = CountGraph(report_.graph);
  report_.flash = EstimateFlash(report_.graph);
  return report_;
}

CostReport EvaluateCost(const Arch& arch, const std::string& planner) {
  arch.Validate();
  CostEvaluator e(planner);
  return e.Evaluate(arch);
}

CostReport EvaluateCost(const Graph& g, const std::string& planner) {
  g.Validate();
  CostEvaluator e(planner);
  return e.Evaluate(g);
}

nlohmann::json CostReportToJson(const CostReport& r) {
  return {{"schema_version", kCostSchemaVersion},
          {"macs", r.counts.macs},
          {"params", r.counts.params},
          {"params_folded", r.counts.params_folded},
          {"flash_bytes", r.flash_bytes()},
          {"peak_sram_bytes", r.plan.peak_sram_bytes},
          {"arena_bytes", r.plan.arena_bytes},
          {"scratch_bytes", r.plan.scratch_bytes},
          {"plan", MemoryPlanToJson(r.plan, r.graph)}};
}

FitResult Fits(const CostReport& r, const Board& b) {
  FitResult f;
  f.sram_excess_bytes = r.peak_sram_bytes() - b.sram_bytes;
  f.flash_excess_bytes = r.flash_bytes() - b.flash_bytes;
  f.fits = FitsBoard(r.peak_sram_bytes(), r.flash_bytes(), b);
  if (f.fits) {
    f.message = "fits " + b.name + ": SRAM " + std::to_string(r.peak_sram_bytes()) + " / " +
                std::to_string(b.sram_bytes) + " B, Flash " + std::to_string(r.flash_bytes()) + " / " +
                std::to_string(b.flash_bytes) + " B";
    return f;
  }
  f.message = "does not fit " + b.name + ":";
  if (f.sram_excess_bytes > 0) {
    f.message += " peak SRAM " + std::to_string(r.peak_sram_bytes()) + " B exceeds " +
                 std::to_string(b.sram_bytes) + " B by " + std::to_string(f.sram_excess_bytes) + " B;";
  }
  if (f.flash_excess_bytes > 0) {
    f.message += " Flash " + std::to_string(r.flash_bytes()) + " B exceeds " + std::to_string(b.flash_bytes) +
                 " B by " + std::to_string(f.flash_excess_bytes) + " B;";
  }
  f.message.pop_back();
  return f;
}

FitResult Fits(const Arch& arch, const Board& b, const std::string& planner) {
  return Fits(EvaluateCost(arch, planner), b);
}

}  // namespace mcunet
