// The analytic cost model: MACs, parameters, Flash and peak SRAM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/graph.h"
#include "mcunet/memory_plan.h"

namespace mcunet {

inline constexpr int kCostSchemaVersion = 1;

// Counted as the original MCUNet repository counts them: MACs of conv and
// linear layers; `params` includes BatchNorm's weight and bias per channel;
// `params_folded` is the count after BN is folded into the convolutions'
// weights (the original's "params without BN"); the per-channel biases that
// folding creates are stored as int32 and counted in Flash.
struct ParamCounts {
  int64_t macs = 0;
  int64_t params = 0;
  int64_t params_folded = 0;
};
ParamCounts CountArch(const Arch& arch);
// For a graph without BN (e.g. from a .tflite): params == params_folded ==
// elements of weight tensors plus FC biases.
ParamCounts CountGraph(const Graph& g);

// Flash bytes of a deployed int8 graph.
struct FlashBreakdown {
  int64_t weight_bytes = 0;  // int8 weights, 1 byte each
  int64_t bias_bytes = 0;    // int32 bias per output channel
  int64_t quant_bytes = 0;   // int32 multiplier + int8 shift per channel
  int64_t code_bytes = 0;    // runtime + one term per kernel kind used
  int64_t total() const {
    return weight_bytes + bias_bytes + quant_bytes + code_bytes;
  }
};
FlashBreakdown EstimateFlash(const Graph& g);

struct CostReport {
  ParamCounts counts;
  FlashBreakdown flash;
  MemoryPlan plan;
  // The graph that was planned: the lowered Arch, or the given graph; for the
  // tinyengine planner after FoldInt8Input (passes.h), as TinyEngine runs a
  // .tflite with int8 I/O. `plan.ops` has one entry per op of this graph.
  Graph graph;
  int64_t flash_bytes() const { return flash.total(); }
  int64_t peak_sram_bytes() const { return plan.peak_sram_bytes; }
};

// Lowers and plans. `planner` is a name accepted by MakePlanner. For
// "tinyengine", a graph with float I/O is first folded to int8 I/O.
CostReport EvaluateCost(const Arch& arch, const std::string& planner = kDefaultPlanner);
CostReport EvaluateCost(const Graph& g, const std::string& planner = kDefaultPlanner);

// Reusable evaluator for hot loops (search, sweeps): owns its Graph and
// MemoryPlan so repeated calls do not allocate once warmed up. Not
// thread-safe; use one per thread.
class CostEvaluator {
 public:
  explicit CostEvaluator(const std::string& planner = kDefaultPlanner);
  ~CostEvaluator();
  CostEvaluator(CostEvaluator&&) noexcept;
  // The returned report and graph() stay valid until the next call.
  const CostReport& Evaluate(const Arch& arch);
  const CostReport& Evaluate(const Graph& g);
  // The graph last planned (report().graph).
  const Graph& graph() const { return report_.graph; }

 private:
  std::unique_ptr<MemoryPlanner> planner_;
  bool fold_int8_io_ = false;
  CostReport report_;
};

// {"schema_version", "macs", "params", "params_folded", "flash_bytes",
//  "peak_sram_bytes", "arena_bytes", "scratch_bytes", "plan"}
nlohmann::json CostReportToJson(const CostReport& r);

// Whether a cost fits a board, and by how much each constraint fails.
struct FitResult {
  bool fits = true;
  int64_t sram_excess_bytes = 0;   // > 0: over by this much
  int64_t flash_excess_bytes = 0;  // > 0: over by this much
  std::string message;             // "fits" or what fails and by how much
};
// The fit test alone, without building a message: for hot loops (sweeps).
inline bool FitsBoard(int64_t peak_sram_bytes, int64_t flash_bytes, const Board& b) {
  return peak_sram_bytes <= b.sram_bytes && flash_bytes <= b.flash_bytes;
}
FitResult Fits(const CostReport& r, const Board& b);
FitResult Fits(const Arch& arch, const Board& b,
               const std::string& planner = kDefaultPlanner);

}  // namespace mcunet
