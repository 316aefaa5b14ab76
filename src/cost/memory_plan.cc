#include "mcunet/memory_plan.h"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "cost/planners.h"
#include "mcunet/error.h"
#include "mcunet/passes.h"

namespace mcunet {

std::string_view OverlapName(Overlap o) {
  switch (o) {
    case Overlap::kNone: return "none";
    case Overlap::kInPlaceDepthwise: return "inplace_depthwise";
    case Overlap::kPointwiseForward: return "pointwise_forward";
    case Overlap::kPointwiseReverse: return "pointwise_reverse";
    case Overlap::kElementwise: return "elementwise";
  }
  return "?";
}

void MemoryPlan::Clear() {
  planner.clear();
  arena_bytes = scratch_bytes = peak_sram_bytes = 0;
  buffers.clear();
  ops.clear();
}

const BufferPlacement* MemoryPlan::FindTensor(int32_t t) const {
  for (const BufferPlacement& b : buffers) {
    if (b.tensor == t) return &b;
  }
  return nullptr;
}

namespace {

bool TimeOverlap(const BufferPlacement& a, const BufferPlacement& b) {
  return !(a.first_op > b.last_op || b.first_op > a.last_op);
}

bool SpaceOverlap(const BufferPlacement& a, const BufferPlacement& b) {
  return a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

// Whether the bytes `out` shares with `in` are the ones the overlap contract
// of passes.h allows.
bool OverlapGeometryValid(Overlap overlap, const Graph& g, const BufferPlacement& in, const BufferPlacement& out) {
  const Shape& si = g.tensors[in.tensor].shape;
  const Shape& so = g.tensors[out.tensor].shape;
  switch (overlap) {
    case Overlap::kInPlaceDepthwise:
      return in.offset == out.offset && out.size <= in.size && si.rank == 4 && so.rank == 4 && si[3] == so[3];
    case Overlap::kElementwise:
      return in.offset == out.offset && in.size == out.size;
    case Overlap::kPointwiseForward:
    case Overlap::kPointwiseReverse: {
      if (si.rank != 4 || so.rank != 4 || si[1] != so[1] || si[2] != so[2]) return false;
      const int64_t pixels = int64_t{si[1]} * si[2];
      const int64_t a = g.tensors[in.tensor].bytes() / pixels;
      const int64_t b = g.tensors[out.tensor].bytes() / pixels;
      return PointwiseOverlapSafe(overlap, in.offset, out.offset, a, b, pixels);
    }
    case Overlap::kNone:
      return false;
  }
  return false;
}

// Whether the plan declares that `a` and `b` may share bytes: one is the
// output of op k, the other the input it overlaps, and they meet only at k.
bool OverlapAllowed(const MemoryPlan& p, const Graph& g, const BufferPlacement& a, const BufferPlacement& b) {
  if (a.tensor < 0 || b.tensor < 0) return false;
  for (int pass = 0; pass < 2; ++pass) {
    const BufferPlacement& in = pass == 0 ? a : b;
    const BufferPlacement& out = pass == 0 ? b : a;
    const int k = out.first_op;
    if (k < 0 || k >= static_cast<int>(g.ops.size()) || k >= static_cast<int>(p.ops.size())) continue;
    if (g.ops[k].output != out.tensor) continue;
    const OpPlan& op = p.ops[k];
    if (op.overlap == Overlap::kNone || op.overlap_input != in.tensor || in.last_op != k) continue;
    return OverlapGeometryValid(op.overlap, g, in, out);
  }
  return false;
}

std::string BufferLabel(const Graph& g, const BufferPlacement& b) {
  if (b.tensor < 0) return "scratch of op " + std::to_string(b.op);
  std::string s = "tensor " + std::to_string(b.tensor);
  if (b.tensor < static_cast<int32_t>(g.tensors.size()) && !g.tensors[b.tensor].name.empty()) {
    s += " '" + g.tensors[b.tensor].name + "'";
  }
  return s;
}

}  // namespace

void MemoryPlan::CheckConsistent(const Graph& g) const {
  for (size_t i = 0; i < buffers.size(); ++i) {
    const BufferPlacement& a = buffers[i];
    if (a.offset < 0 || a.size < 0 || a.offset + a.size > arena_bytes) {
      throw Error(planner + " plan: " + BufferLabel(g, a) + " lies outside the arena of " +
                  std::to_string(arena_bytes) + " bytes");
    }
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const BufferPlacement& b = buffers[j];
      if (!TimeOverlap(a, b) || !SpaceOverlap(a, b) || a.size == 0 || b.size == 0) continue;
      if (OverlapAllowed(*this, g, a, b)) continue;
      throw Error(planner + " plan: " + BufferLabel(g, a) + " [" + std::to_string(a.offset) + ", " +
                  std::to_string(a.offset + a.size) + ") ops " + std::to_string(a.first_op) + "-" +
                  std::to_string(a.last_op) + " collides with " + BufferLabel(g, b) + " [" +
                  std::to_string(b.offset) + ", " + std::to_string(b.offset + b.size) + ") ops " +
                  std::to_string(b.first_op) + "-" + std::to_string(b.last_op));
    }
  }
}

std::string MemoryPlan::Timeline(const Graph& g, int width) const {
  static const char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const int n_letters = static_cast<int>(sizeof(kLetters) - 1);
  width = std::max(width, 8);
  const int64_t span = std::max<int64_t>(arena_bytes, 1);
  std::string out = planner + ": arena " + std::to_string(arena_bytes) + " B, scratch " +
                    std::to_string(scratch_bytes) + " B, peak " + std::to_string(peak_sram_bytes) +
                    " B; one column = " + std::to_string((span + width - 1) / width) + " B\n";
  for (size_t k = 0; k < g.ops.size(); ++k) {
    std::string row(width, '.');
    for (size_t i = 0; i < buffers.size(); ++i) {
      const BufferPlacement& b = buffers[i];
      if (b.first_op > static_cast<int>(k) || b.last_op < static_cast<int>(k) || b.size == 0) continue;
      const int c0 = static_cast<int>(b.offset * width / span);
      const int c1 = static_cast<int>(std::max<int64_t>((b.offset + b.size) * width / span, c0 + 1));
      const char letter = b.tensor < 0 ? '#' : kLetters[i % n_letters];
      for (int c = c0; c < std::min(c1, width); ++c) row[c] = (row[c] == '.') ? letter : '*';
    }
    char prefix[48];
    std::snprintf(prefix, sizeof(prefix), "%3zu ", k);
    out += prefix + row + " " + std::string(OpKindName(g.ops[k].kind));
    if (k < ops.size()) {
      out += " live=" + std::to_string(ops[k].live_bytes);
      if (ops[k].overlap != Overlap::kNone) out += " " + std::string(OverlapName(ops[k].overlap));
      if (ops[k].scratch_bytes) out += " scratch=" + std::to_string(ops[k].scratch_bytes);
    }
    out += "\n";
  }
  out += "('*': bytes shared by two buffers at that op, as the op's overlap allows; '#': scratch)\n";
  return out;
}

nlohmann::json MemoryPlanToJson(const MemoryPlan& p, const Graph& g) {
  nlohmann::json buffers = nlohmann::json::array();
  for (const BufferPlacement& b : p.buffers) {
    nlohmann::json j = {{"tensor", b.tensor}, {"offset", b.offset}, {"size", b.size},
                        {"first_op", b.first_op}, {"last_op", b.last_op}};
    if (b.tensor >= 0 && b.tensor < static_cast<int32_t>(g.tensors.size())) {
      j["name"] = g.tensors[b.tensor].name;
      j["shape"] = g.tensors[b.tensor].shape.ToString();
    } else {
      j["op"] = b.op;
    }
    buffers.push_back(std::move(j));
  }
  nlohmann::json ops = nlohmann::json::array();
  for (size_t k = 0; k < p.ops.size() && k < g.ops.size(); ++k) {
    const OpPlan& o = p.ops[k];
    ops.push_back({{"index", k},
                   {"kind", std::string(OpKindName(g.ops[k].kind))},
                   {"macs", g.ops[k].macs},
                   {"overlap", std::string(OverlapName(o.overlap))},
                   {"overlap_input", o.overlap_input},
                   {"scratch_bytes", o.scratch_bytes},
                   {"live_bytes", o.live_bytes}});
  }
  return {{"planner", p.planner},
          {"arena_bytes", p.arena_bytes},
          {"scratch_bytes", p.scratch_bytes},
          {"peak_sram_bytes", p.peak_sram_bytes},
          {"buffers", buffers},
          {"ops", ops}};
}

std::vector<std::string> PlannerNames() { return {"tinyengine", "tflm", "cmsis"}; }

std::unique_ptr<MemoryPlanner> MakePlanner(std::string_view name) {
  if (name == "tinyengine") return MakeTinyEnginePlanner();
  if (name == "tflm") return MakeTflmPlanner();
  if (name == "cmsis") return MakeCmsisPlanner();
  throw InvalidInput("unknown planner '" + std::string(name) + "'" + DidYouMean(name, PlannerNames()) +
                     " (expected tinyengine, tflm or cmsis)");
}

}  // namespace mcunet
