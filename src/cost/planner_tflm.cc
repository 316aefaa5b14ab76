// "tflm": TF-Lite Micro's GreedyMemoryPlanner, reproduced byte for byte.
//
// Facts from the tensorflow/tflite-micro sources (read, not copied):
//  * micro_allocation_info.cc, AllocationInfoBuilder:
//    - one AllocationInfo per tensor in tensor-index order, then one per
//      scratch request in request order (scratch_offset = tensor_count);
//    - needs_allocating = no flatbuffer data && !is_variable && bytes != 0;
//    - MarkAllocationLifetimes: subgraph inputs first_created = last_used =
//      scope 0; each op increments the scope; its outputs get first_created
//      (if unset), its inputs and outputs last_used = scope; its scratch
//      buffers [scope, scope]; at the end subgraph outputs last_used = final
//      scope. (Control flow ops, which advance the scope further, do not
//      occur in our graphs.)
//  * micro_allocator.cc, CreatePlan: AddBuffer(AlignSizeUp(bytes,
//    MicroArenaBufferAlignment() = 16), first_created, last_used) for every
//    AllocationInfo that needs allocating, in array order; the arena head is
//    GetMaximumMemorySize(). No buffer aliasing: RESHAPE's output is planned
//    like any other tensor (kernels/reshape.cc only skips the memcpy when the
//    two pointers happen to coincide).
//  * memory_planner/greedy_memory_planner.cc, CalculateOffsetsIfNeeded:
//    - online buffers are written into the sort arrays from the TAIL
//      (idx_from_tail--), i.e. in reverse AddBuffer order, then
//      ReverseSortInPlace, a stable bubble sort by size descending; so equal
//      sizes are placed in reverse AddBuffer order;
//    - the first buffer goes at offset 0; each next one walks the
//      offset-sorted list of placed buffers that overlap it in time
//      (closed intervals), keeping candidate = max end of those passed, and
//      takes the first gap (next.offset - candidate >= size), else the end;
//    - a new entry is linked after every entry with offset <= its own.
//  * Reference kernels requesting scratch for int8 (kernels/*.cc, 2024-25):
//    conv_common.cc, depthwise_conv_common.cc, fully_connected.cc only for
//    int4 filters (unpacking); add, pad, transpose, quantize, dequantize,
//    reshape, softmax, pooling never; reduce_common.cc
//    PrepareMeanOrSumHelper: int8/int16 input requests
//    NumElements(output) * sizeof(int32_t).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "cost/planners.h"
#include "cost/tflm_greedy.h"
#include "mcunet/graph.h"
#include "mcunet/memory_plan.h"

namespace mcunet {
namespace tflm {
namespace {

constexpr int32_t kUnset = std::numeric_limits<int32_t>::min();

// Per-thread scratch for the planner, so planning in a hot loop does not
// allocate once the vectors have grown (planners are shared across threads).
struct Workspace {
  std::vector<int32_t> first_scope;  // per tensor
  std::vector<int32_t> last_scope;   // per tensor
  std::vector<int32_t> order;        // buffer indices in placement order
  std::vector<int32_t> next;         // offset-sorted singly linked list
};

Workspace& GetWorkspace() {
  thread_local Workspace ws;
  return ws;
}

bool OverlapInTime(const BufferPlacement& a, const BufferPlacement& b) {
  return !(a.first_op > b.last_op || b.first_op > a.last_op);
}

}  // namespace

int64_t ReferenceScratchBytes(const Graph& g, const Op& op) {
  if (op.kind != OpKind::kMean || op.inputs[0] < 0 || op.output < 0) return 0;
  const DType in = g.tensors[op.inputs[0]].dtype;
  if (in != DType::kInt8 && in != DType::kInt16) return 0;
  return g.tensors[op.output].shape.elements() * static_cast<int64_t>(sizeof(int32_t));
}

int64_t GreedyPlace(std::span<BufferPlacement> buffers) {
  const int32_t n = static_cast<int32_t>(buffers.size());
  if (n == 0) return 0;
  Workspace& ws = GetWorkspace();

  // Size descending; equal sizes in reverse AddBuffer order (see above). The
  // tie-break makes the order total, so std::sort equals TFLM's bubble sort.
  ws.order.resize(n);
  for (int32_t i = 0; i < n; ++i) ws.order[i] = i;
  std::sort(ws.order.begin(), ws.order.end(), [&](int32_t a, int32_t b) {
    if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
    return a > b;
  });

  ws.next.assign(n, -1);
  int32_t head = ws.order[0];
  buffers[head].offset = 0;

  for (int32_t k = 1; k < n; ++k) {
    const int32_t id = ws.order[k];
    BufferPlacement& want = buffers[id];
    int64_t candidate = 0;
    int32_t prior = -1;
    while (true) {
      // Next placed buffer (in offset order) that is live at the same time.
      int32_t next = prior < 0 ? head : ws.next[prior];
      while (next >= 0 && !OverlapInTime(buffers[next], want)) next = ws.next[next];
      if (prior >= 0) candidate = std::max(candidate, buffers[prior].offset + buffers[prior].size);
      if (next < 0) break;                                       // append at the end
      if (buffers[next].offset - candidate >= want.size) break;  // the gap fits
      prior = next;
    }
    want.offset = candidate;

    // Link into the offset-sorted list after all entries with offset <= ours.
    if (buffers[head].offset > candidate) {
      ws.next[id] = head;
      head = id;
    } else {
      int32_t cur = head;
      while (ws.next[cur] >= 0 && buffers[ws.next[cur]].offset <= candidate) cur = ws.next[cur];
      ws.next[id] = ws.next[cur];
      ws.next[cur] = id;
    }
  }

  int64_t head_size = 0;
  for (const BufferPlacement& b : buffers) head_size = std::max(head_size, b.offset + b.size);
  return head_size;
}

void PlanGreedy(const Graph& g, ScratchFn scratch, std::string_view planner_name, MemoryPlan* out) {
  const int32_t n_tensors = static_cast<int32_t>(g.tensors.size());
  const int32_t n_ops = static_cast<int32_t>(g.ops.size());
  Workspace& ws = GetWorkspace();

  out->planner.assign(planner_name);
  out->arena_bytes = out->scratch_bytes = out->peak_sram_bytes = 0;
  out->buffers.clear();
  out->ops.assign(n_ops, OpPlan{});

  // Lifetimes in TFLM's allocation scopes: 0 = subgraph entry, op i = i + 1.
  ws.first_scope.assign(n_tensors, kUnset);
  ws.last_scope.assign(n_tensors, kUnset);
  for (int32_t t : g.inputs) ws.first_scope[t] = ws.last_scope[t] = 0;
  for (int32_t i = 0; i < n_ops; ++i) {
    const Op& op = g.ops[i];
    const int32_t scope = i + 1;
    if (op.output >= 0 && ws.first_scope[op.output] == kUnset) ws.first_scope[op.output] = scope;
    for (int32_t t : op.inputs) {
      if (t >= 0) ws.last_scope[t] = scope;
    }
    if (op.output >= 0) ws.last_scope[op.output] = scope;
  }
  for (int32_t t : g.outputs) {
    if (ws.first_scope[t] == kUnset) ws.first_scope[t] = n_ops;
    ws.last_scope[t] = n_ops;
  }

  // AddBuffer order: tensors by index, then scratch requests by op. Buffers
  // are planned with first_op = scope - 1 (graph inputs start at op -1), which
  // keeps TFLM's overlap relation exactly; clamped to op indices afterwards.
  for (int32_t t = 0; t < n_tensors; ++t) {
    const Tensor& tensor = g.tensors[t];
    const int64_t bytes = tensor.bytes();
    if (tensor.is_constant || bytes == 0) continue;
    if (ws.first_scope[t] == kUnset && ws.last_scope[t] == kUnset) continue;  // never touched
    BufferPlacement b;
    b.tensor = t;
    b.size = AlignSizeUp(bytes);
    // A tensor read but never produced keeps TFLM's first_created = -1.
    b.first_op = (ws.first_scope[t] == kUnset ? -1 : ws.first_scope[t]) - 1;
    b.last_op = (ws.last_scope[t] == kUnset ? ws.first_scope[t] : ws.last_scope[t]) - 1;
    out->buffers.push_back(b);
  }
  for (int32_t i = 0; i < n_ops; ++i) {
    const int64_t bytes = scratch(g, g.ops[i]);
    if (bytes <= 0) continue;
    out->ops[i].scratch_bytes += bytes;
    BufferPlacement b;
    b.tensor = -1;
    b.op = i;
    b.size = AlignSizeUp(bytes);
    b.first_op = b.last_op = i;
    out->buffers.push_back(b);
  }

  out->arena_bytes = GreedyPlace(out->buffers);
  out->peak_sram_bytes = out->arena_bytes;

  // Clamp to op indices and sum the bytes live at each op (difference array
  // accumulated in live_bytes, then a prefix sum).
  for (BufferPlacement& b : out->buffers) {
    b.first_op = std::max(b.first_op, 0);
    b.last_op = std::max(b.last_op, 0);
    if (n_ops == 0 || b.first_op >= n_ops) continue;
    out->ops[b.first_op].live_bytes += b.size;
    if (b.last_op + 1 < n_ops) out->ops[b.last_op + 1].live_bytes -= b.size;
  }
  for (int32_t i = 1; i < n_ops; ++i) out->ops[i].live_bytes += out->ops[i - 1].live_bytes;
}

}  // namespace tflm

namespace {

class TflmPlanner final : public MemoryPlanner {
 public:
  std::string_view name() const override { return "tflm"; }
  void Plan(const Graph& g, MemoryPlan* out) const override {
    tflm::PlanGreedy(g, &tflm::ReferenceScratchBytes, name(), out);
  }
  using MemoryPlanner::Plan;
};

}  // namespace

std::unique_ptr<MemoryPlanner> MakeTflmPlanner() { return std::make_unique<TflmPlanner>(); }

}  // namespace mcunet
