// Internal: TF-Lite Micro's arena planning (AllocationInfoBuilder lifetimes +
// GreedyMemoryPlanner placement), shared by the "tflm" and "cmsis" planners.
// They differ only in the scratch buffers their kernels request in Prepare.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "mcunet/graph.h"
#include "mcunet/memory_plan.h"

namespace mcunet::tflm {

// TFLM rounds every planned buffer up to MicroArenaBufferAlignment() = 16.
inline constexpr int64_t kBufferAlignment = 16;
inline int64_t AlignSizeUp(int64_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

// Bytes of the scratch buffer that op `op` requests with
// RequestScratchBufferInArena in Prepare; 0 when it requests none. (Every
// kernel modelled here requests at most one.)
using ScratchFn = int64_t (*)(const Graph& g, const Op& op);

// The requests of TFLM's reference kernels (tensorflow/lite/micro/kernels/*.cc):
// only MEAN on int8/int16 asks for output_elements * sizeof(int32_t).
int64_t ReferenceScratchBytes(const Graph& g, const Op& op);

// GreedyMemoryPlanner::CalculateOffsetsIfNeeded on buffers given in AddBuffer
// order. Reads size, first_op, last_op (closed interval); writes offset.
// Returns the head size, max(offset + size). Allocation-free once warm.
int64_t GreedyPlace(std::span<BufferPlacement> buffers);

// The whole TFLM flow on `g`: planned buffers are the non-constant tensors of
// non-zero size that an op touches or that are graph inputs/outputs, in
// tensor-index order, then one scratch buffer per op with a request, in op
// order; sizes AlignSizeUp(16); lifetimes as AllocationInfoBuilder marks them;
// offsets by GreedyPlace. Scratch lives in the arena head: out->arena_bytes =
// head size, out->scratch_bytes = 0, out->peak_sram_bytes = head size.
void PlanGreedy(const Graph& g, ScratchFn scratch, std::string_view planner_name, MemoryPlan* out);

}  // namespace mcunet::tflm
