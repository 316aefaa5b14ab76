// Memory planning: where every activation tensor and scratch buffer lives in
// SRAM. One planner, two users: the cost model reports the plan's peak, and
// the code generator emits exactly the plan's offsets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/graph.h"

namespace mcunet {

// How an op's output may share bytes with one of its inputs. The planner
// records what it assumed; kernels must implement exactly that.
enum class Overlap : uint8_t {
  kNone,  // output disjoint from every live input
  // Depthwise conv in place: output starts at the input's offset; the kernel
  // copies one input channel to scratch, then writes that output channel.
  kInPlaceDepthwise,
  // 1x1 conv, pixels processed first to last; output pixel p is written after
  // input pixel p is read (into scratch), over input bytes already consumed.
  kPointwiseForward,
  // 1x1 conv, pixels processed last to first (for expansions).
  kPointwiseReverse,
  // Element-wise op (ADD) writing over one of its inputs.
  kElementwise,
};
std::string_view OverlapName(Overlap o);

// One planned buffer: an activation tensor (tensor >= 0) or an op's scratch
// (tensor == -1, op == the requesting op). Lifetime is the closed interval
// [first_op, last_op] of op indices.
struct BufferPlacement {
  int32_t tensor = -1;
  int32_t op = -1;  // for scratch buffers: the op that requested it
  int64_t offset = 0;
  int64_t size = 0;  // bytes, as planned (may include alignment padding)
  int32_t first_op = 0;
  int32_t last_op = 0;
};

struct OpPlan {
  Overlap overlap = Overlap::kNone;
  int32_t overlap_input = -1;  // tensor whose bytes the output reuses
  int64_t scratch_bytes = 0;   // scratch this op asks for
  int64_t live_bytes = 0;      // arena bytes in use while this op runs
};

struct MemoryPlan {
  std::string planner;
  // Bytes of the activation arena (for tflm: the arena head, which also holds
  // the scratch buffers).
  int64_t arena_bytes = 0;
  // Scratch held outside the arena (tinyengine: one shared buffer sized by
  // the largest request, paper Eq. 1). 0 for tflm and cmsis, whose scratch
  // buffers are planned inside the arena as TF-Lite Micro does.
  int64_t scratch_bytes = 0;
  int64_t peak_sram_bytes = 0;  // arena_bytes + scratch_bytes
  std::vector<BufferPlacement> buffers;
  std::vector<OpPlan> ops;  // one per graph op

  void Clear();
  // Buffer of tensor `t`, or nullptr if it is not planned.
  const BufferPlacement* FindTensor(int32_t t) const;
  // ASCII timeline in the spirit of TFLM's PrintMemoryPlan: one row per op,
  // one column per `bytes_per_char` of arena, a letter per buffer, '!' where
  // two live buffers collide (never, in a correct plan).
  std::string Timeline(const Graph& g, int width = 80) const;
  // Throws Error if two buffers overlap in space and time beyond what the
  // ops' recorded Overlap allows.
  void CheckConsistent(const Graph& g) const;
};

nlohmann::json MemoryPlanToJson(const MemoryPlan& p, const Graph& g);

class MemoryPlanner {
 public:
  virtual ~MemoryPlanner() = default;
  virtual std::string_view name() const = 0;
  // Plans `g` into `out` (cleared first; capacity reused).
  virtual void Plan(const Graph& g, MemoryPlan* out) const = 0;
  MemoryPlan Plan(const Graph& g) const {
    MemoryPlan p;
    Plan(g, &p);
    return p;
  }
};

// "tinyengine" (default), "tflm", "cmsis". Throws InvalidInput on others.
std::unique_ptr<MemoryPlanner> MakePlanner(std::string_view name);
std::vector<std::string> PlannerNames();
inline constexpr const char* kDefaultPlanner = "tinyengine";

}  // namespace mcunet
