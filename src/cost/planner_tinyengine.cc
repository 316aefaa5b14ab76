// The tinyengine memory planner: MCUNet's TinyEngine schedule, improved.
//
// It plans exactly the graph it is given, one OpPlan per op (for a .tflite
// with float I/O, call FoldInt8Input first: mcunet/passes.h). Ops run in
// order, layer by layer. Every activation tensor gets one arena
// offset for its whole lifetime [first_op, last_op]; scratch is one shared
// buffer outside the arena sized by the largest per-op request (paper Eq. 1),
// so peak SRAM = arena + scratch. An op's output may share bytes with an input
// that dies at that op, in the ways the kernels implement (mcunet/passes.h):
//
//   depthwise in place    output at the input's offset (N+1 instead of 2N);
//   1x1 conv forward /    output aligned to the input's start or end, pixels
//   reverse               processed in the order that reads every input byte
//                         before it is overwritten (conditions below);
//   ADD / RESHAPE         output at the offset of the input it overwrites.
//
// 1x1 conv overlap conditions. Input pixels of a bytes at I + a*p, output
// pixels of b bytes at O + b*p, p in [0, n). The kernel stages input pixel p
// in scratch, then writes output pixel p.
//   Forward (p = 0, 1, ...): when output pixel p is written, the unread input
//   is [I + a*(p+1), I + a*n), so for every p in [0, n-2] we need
//   O + b*(p+1) <= I + a*(p+1)  (output so far stays below the unread input)
//   or O + b*p >= I + a*n       (output pixel beyond the input's end).
//   Unless the tensors are disjoint the first must hold for all p:
//   O - I <= min_{q=1..n-1} (a-b)*q, i.e. (a-b) if a >= b, (a-b)*(n-1) if a < b.
//   Reverse (p = n-1, ..., 0): the unread input is [I, I + a*p), so for every
//   p in [1, n-1]: O + b*p >= I + a*p or O + b*(p+1) <= I, i.e. unless
//   disjoint O - I >= max_{q=1..n-1} (a-b)*q: (a-b) if a <= b, else (a-b)*(n-1).
// (tests/cpp/planner_tinyengine_test.cc checks both against a simulated kernel
// for every offset over small sizes.) Consequently output aligned to the
// input's start is safe forward for projections (a >= b) and reverse for
// expansions (a < b); output aligned to the input's end the other way round;
// both make the op's footprint max(a, b) * n.
//
// Placement. Offsets are anchored to the arena's bottom (offset = base) or to
// its top (offset = A + base, base < 0), where A, the arena size, is only
// known at the end: a bottom buffer [b0, b1) and a top buffer live at the same
// time only need A >= b1 - base_top. Buffers are placed in order of creation;
// each output is tried at its overlap positions (inheriting the input's
// anchor), at the bottom (0, on top of or below any live bottom buffer) and at
// the top (likewise). A beam search keeps the states with the lowest arena
// requirement so far, then the most compact live set (the skip tensor of a
// residual block pushed to one end leaves the other end to the block). A
// greedy pass (beam width 1) runs first; if it misses the lower bound (max
// over ops of the bytes that must coexist at that op, given the allowed
// overlaps), a wider beam runs and the better plan is kept. The remaining gap,
// if any, is logged at debug level.
//
// Hot path: no heap allocation once the MemoryPlan's vectors and this file's
// thread-local workspace are warm.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cost/planners.h"
#include "mcunet/error.h"
#include "mcunet/passes.h"

namespace mcunet {

// ---- Overlap contract (declared in passes.h) ----------------------------------

bool PointwiseOverlapSafe(Overlap dir, int64_t in, int64_t out, int64_t a, int64_t b, int64_t n) {
  if (n <= 1) return true;
  if (out >= in + a * n || out + b * n <= in) return true;
  const int64_t d = out - in;
  if (dir == Overlap::kPointwiseForward) return d <= (a >= b ? (a - b) : (a - b) * (n - 1));
  if (dir == Overlap::kPointwiseReverse) return d >= (a <= b ? (a - b) : (a - b) * (n - 1));
  return false;
}

namespace {

int64_t Channels(const Shape& s) { return s.rank > 0 ? s.dims[s.rank - 1] : 1; }
int64_t Pixels(const Shape& s) { return s.rank == 4 ? int64_t{s.dims[1]} * s.dims[2] : 1; }

}  // namespace

int64_t TinyEngineScratchBytes(const Graph& g, const Op& op, Overlap overlap) {
  const Tensor& in = g.tensors[op.inputs[0]];
  const int64_t elem = DTypeSize(in.dtype);
  switch (op.kind) {
    case OpKind::kConv2D:
      // im2col of two output pixels, widened to int16.
      return 2 * 2 * int64_t{op.kernel_h} * op.kernel_w * Channels(in.shape);
    case OpKind::kPointwiseConv2D:
      // Two input pixels widened to int16 (the SMLAD operands of a 2x2 tile).
      return 2 * 2 * Channels(in.shape) * elem;
    case OpKind::kDepthwiseConv2D:
      // One output channel when in place.
      return overlap == Overlap::kInPlaceDepthwise ? Pixels(g.tensors[op.output].shape) * elem : 0;
    default:
      return 0;
  }
}

namespace {

constexpr int kMaxLive = 32;    // simultaneously live tensors (MCUNet: <= 4)
constexpr int kBeamWidth = 16;  // width of the fallback search
constexpr uint8_t kBottom = 0;
constexpr uint8_t kTop = 1;

// A way op k's output may overlap one of its inputs that dies at k.
struct OverlapOption {
  Overlap kind = Overlap::kNone;
  int32_t input_buf = -1;  // index into MemoryPlan::buffers
  bool end_aligned = false;
};

struct OpOptions {
  int n = 0;
  OverlapOption opt[2];
};

// Where a buffer goes: offset = base, or A + base for the top anchor.
struct Placement {
  int64_t base = 0;
  uint8_t anchor = kBottom;
  Overlap overlap = Overlap::kNone;
  int32_t overlap_buf = -1;
};

struct Live {
  int32_t buf;
  int32_t last_op;
  int64_t base;
  int64_t size;
  uint8_t anchor;
};

struct State {
  State() {}          // leaves `live` uninitialised: states are created in the hot loop
  int32_t node = -1;  // last decision of this state (beam search), -1: none
  int32_t n_live = 0;
  int64_t a_req = 0;  // arena size this state's placements need so far
  Live live[kMaxLive];
};

// One decision of the beam search; `parent` chains back to the first buffer.
struct Node {
  int32_t parent;
  int32_t buf;
  Placement place;
};

struct Candidate {
  int32_t state;
  int32_t order;
  Placement place;
  int64_t a_req;
  int64_t footprint;
};

struct Workspace {
  std::vector<int32_t> tensor_buf;  // tensor -> buffer index, -1 if unplanned
  std::vector<char> is_output;      // per tensor: is a graph output
  std::vector<OpOptions> options;   // per op
  std::vector<Placement> chosen;    // per buffer: the plan
  std::vector<State> beam, next;
  std::vector<Node> nodes;
  std::vector<Candidate> cands;
};

Workspace& GetWorkspace() {
  thread_local Workspace ws;
  return ws;
}

// One buffer per activation tensor, in order of creation (graph inputs first,
// at op 0; then each op's output), with closed lifetimes [first_op, last_op];
// graph outputs live to the last op.
void CollectBuffers(const Graph& g, Workspace& ws, MemoryPlan* out) {
  const int32_t n_ops = static_cast<int32_t>(g.ops.size());
  ws.tensor_buf.assign(g.tensors.size(), -1);
  ws.is_output.assign(g.tensors.size(), 0);
  auto add = [&](int32_t t, int32_t first) {
    if (t < 0 || g.tensors[t].is_constant || ws.tensor_buf[t] >= 0) return;
    ws.tensor_buf[t] = static_cast<int32_t>(out->buffers.size());
    BufferPlacement b;
    b.tensor = t;
    b.size = g.tensors[t].bytes();
    b.first_op = b.last_op = first;
    out->buffers.push_back(b);
  };
  for (int32_t t : g.inputs) add(t, 0);
  for (int32_t k = 0; k < n_ops; ++k) {
    const Op& op = g.ops[k];
    for (int32_t t : op.inputs) {
      if (t < 0 || g.tensors[t].is_constant) continue;
      add(t, k);  // read without a producer (invalid graph): lives from here
      out->buffers[ws.tensor_buf[t]].last_op = k;
    }
    add(op.output, k);
  }
  for (int32_t t : g.outputs) {
    ws.is_output[t] = 1;
    if (ws.tensor_buf[t] >= 0) out->buffers[ws.tensor_buf[t]].last_op = std::max(n_ops - 1, 0);
  }
}

// The ways the output of op k may overlap an input dying at k.
OpOptions FindOverlapOptions(const Graph& g, int32_t k, const std::vector<BufferPlacement>& bufs, const Workspace& ws) {
  OpOptions r;
  const Op& op = g.ops[k];
  const int32_t out_t = op.output;
  if (ws.tensor_buf[out_t] < 0 || bufs[ws.tensor_buf[out_t]].first_op != k) return r;
  // Buffer of `t` if it dies at k and may be overwritten by the output.
  auto dying = [&](int32_t t) -> int32_t {
    if (t < 0 || t == out_t || g.tensors[t].is_constant || ws.is_output[t]) return -1;
    const int32_t b = ws.tensor_buf[t];
    if (b < 0 || bufs[b].last_op != k || g.tensors[t].dtype != g.tensors[out_t].dtype) return -1;
    return b;
  };
  const Shape& os = g.tensors[out_t].shape;
  switch (op.kind) {
    case OpKind::kDepthwiseConv2D: {
      const int32_t b = dying(op.inputs[0]);
      if (b < 0) break;
      const Shape& is = g.tensors[op.inputs[0]].shape;
      if (is.rank != 4 || os.rank != 4 || Channels(is) != Channels(os) || Pixels(os) > Pixels(is)) break;
      r.opt[r.n++] = {Overlap::kInPlaceDepthwise, b, false};
      break;
    }
    case OpKind::kPointwiseConv2D: {
      const int32_t b = dying(op.inputs[0]);
      if (b < 0) break;
      const Shape& is = g.tensors[op.inputs[0]].shape;
      if (is.rank != 4 || os.rank != 4 || is[1] != os[1] || is[2] != os[2]) break;
      // Start-aligned is safe forward for projections, reverse for
      // expansions; end-aligned the other way round.
      const bool projection = Channels(is) >= Channels(os);
      r.opt[r.n++] = {projection ? Overlap::kPointwiseForward : Overlap::kPointwiseReverse, b, false};
      if (Channels(is) != Channels(os)) {
        r.opt[r.n++] = {projection ? Overlap::kPointwiseReverse : Overlap::kPointwiseForward, b, true};
      }
      break;
    }
    case OpKind::kAdd:
    case OpKind::kReshape: {
      const int n_in = op.kind == OpKind::kAdd ? 2 : 1;
      for (int i = 0; i < n_in; ++i) {
        const int32_t b = dying(op.inputs[i]);
        if (b < 0 || bufs[b].size != bufs[ws.tensor_buf[out_t]].size) continue;
        if (i == 1 && op.inputs[1] == op.inputs[0]) continue;
        r.opt[r.n++] = {Overlap::kElementwise, b, false};
      }
      break;
    }
    default:
      break;
  }
  return r;
}

// Drops the tensors dead before op k from `s`.
void DropDead(State& s, int32_t k) {
  int m = 0;
  for (int i = 0; i < s.n_live; ++i) {
    if (s.live[i].last_op >= k) s.live[m++] = s.live[i];
  }
  s.n_live = m;
}

// Calls f(placement, a_req, footprint) for every valid position of a buffer
// of `size` created by op k in state `s`: the overlap positions, then 0 and
// the top, then on top of and below every live buffer, in that order. A
// position is valid if it collides with no live buffer of its anchor (other
// than the input it may overlap); a buffer of the other anchor only raises the
// arena requirement a_req. The footprint, bottom extent + top extent of the
// tensors that outlive op k, measures how much room is left to later ops.
template <typename F>
void ForEachCandidate(const State& s, int64_t size, int32_t k, const OpOptions& o, F&& f) {
  int64_t keep_bottom = 0, keep_top = 0;
  for (int i = 0; i < s.n_live; ++i) {
    const Live& l = s.live[i];
    if (l.last_op <= k) continue;
    if (l.anchor == kBottom)
      keep_bottom = std::max(keep_bottom, l.base + l.size);
    else
      keep_top = std::max(keep_top, -l.base);
  }
  auto consider = [&](int64_t base, uint8_t anchor, Overlap overlap, int32_t overlap_buf)
      __attribute__((always_inline)) {
    int64_t req = s.a_req;
    int64_t fp;
    if (anchor == kBottom) {
      if (base < 0) return;
      req = std::max(req, base + size);
      fp = std::max(keep_bottom, base + size) + keep_top;
    } else {
      if (base + size > 0) return;
      req = std::max(req, -base);
      fp = keep_bottom + std::max(keep_top, -base);
    }
    for (int i = 0; i < s.n_live; ++i) {
      const Live& l = s.live[i];
      if (l.buf == overlap_buf) continue;
      if (l.anchor == anchor) {
        if (base < l.base + l.size && l.base < base + size) return;
      } else if (anchor == kBottom) {
        req = std::max(req, base + size - l.base);
      } else {
        req = std::max(req, l.base + l.size - base);
      }
    }
    f(Placement{base, anchor, overlap, overlap_buf}, req, fp);
  };
  for (int i = 0; i < o.n; ++i) {
    for (int j = 0; j < s.n_live; ++j) {
      const Live& l = s.live[j];
      if (l.buf != o.opt[i].input_buf) continue;
      consider(o.opt[i].end_aligned ? l.base + l.size - size : l.base, l.anchor, o.opt[i].kind, l.buf);
    }
  }
  consider(0, kBottom, Overlap::kNone, -1);
  consider(-size, kTop, Overlap::kNone, -1);
  for (int j = 0; j < s.n_live; ++j) {
    const Live& l = s.live[j];
    consider(l.base + l.size, l.anchor, Overlap::kNone, -1);
    consider(l.base - size, l.anchor, Overlap::kNone, -1);
  }
}

const OpOptions& OptionsFor(const Graph& g, const Workspace& ws, const BufferPlacement& b) {
  static const OpOptions kNoOptions;
  const int32_t k = b.first_op;
  if (k < static_cast<int32_t>(g.ops.size()) && g.ops[k].output == b.tensor) return ws.options[k];
  return kNoOptions;
}

void CheckLiveCount(const Graph& g, const State& s, int32_t k) {
  if (s.n_live == kMaxLive) {
    throw Unsupported("tinyengine planner: graph '" + g.name + "' has more than " + std::to_string(kMaxLive) +
                      " activation tensors live at op " + std::to_string(k));
  }
}

// Greedy placement, one state: each buffer where the arena requirement, then
// the footprint, is lowest. Writes ws.chosen; returns the arena size.
//
// Same candidates, in the same order, as ForEachCandidate, and the same choice
// (the first candidate with the lowest (a_req, footprint)), but cheaper: a
// candidate's a_req and footprint depend only on its position and on the
// extents of the live buffers of the other anchor, so they are computed first
// and the collision check only runs for a candidate that would win.
int64_t Greedy(const Graph& g, const std::vector<BufferPlacement>& bufs, Workspace& ws) {
  State s;
  const int32_t n_bufs = static_cast<int32_t>(bufs.size());
  for (int32_t j = 0; j < n_bufs; ++j) {
    const BufferPlacement& b = bufs[j];
    const int32_t k = b.first_op;
    const int64_t size = b.size;
    // Drop the dead; extents of the survivors.
    int64_t keep_bottom = 0, keep_top = 0, all_bottom = 0, all_top = 0;
    {
      int m = 0;
      for (int i = 0; i < s.n_live; ++i) {
        const Live l = s.live[i];
        if (l.last_op < k) continue;
        s.live[m++] = l;
        if (l.anchor == kBottom) {
          const int64_t e = l.base + l.size;
          all_bottom = std::max(all_bottom, e);
          if (l.last_op > k) keep_bottom = std::max(keep_bottom, e);
        } else {
          all_top = std::max(all_top, -l.base);
          if (l.last_op > k) keep_top = std::max(keep_top, -l.base);
        }
      }
      s.n_live = m;
    }
    CheckLiveCount(g, s, k);
    const int n_live = s.n_live;
    const int64_t a_req = s.a_req;
    Placement best;
    int64_t best_req = -1, best_fp = 0;
    auto consider = [&](int64_t base, uint8_t anchor, Overlap overlap, int32_t overlap_buf)
        __attribute__((always_inline)) {
      int64_t req, fp;
      if (anchor == kBottom) {
        if (base < 0) return;
        const int64_t e = base + size;
        req = std::max(std::max(a_req, e), e + all_top);
        fp = std::max(keep_bottom, e) + keep_top;
      } else {
        if (base + size > 0) return;
        req = std::max(std::max(a_req, -base), all_bottom - base);
        fp = keep_bottom + std::max(keep_top, -base);
      }
      if (!(best_req < 0 || req < best_req || (req == best_req && fp < best_fp))) return;
      for (int i = 0; i < n_live; ++i) {
        const Live& l = s.live[i];
        if (l.anchor != anchor || l.buf == overlap_buf) continue;
        if (base < l.base + l.size && l.base < base + size) return;
      }
      best = Placement{base, anchor, overlap, overlap_buf};
      best_req = req;
      best_fp = fp;
    };
    const OpOptions& o = OptionsFor(g, ws, b);
    for (int i = 0; i < o.n; ++i) {
      for (int jj = 0; jj < n_live; ++jj) {
        const Live& l = s.live[jj];
        if (l.buf != o.opt[i].input_buf) continue;
        consider(o.opt[i].end_aligned ? l.base + l.size - size : l.base, l.anchor, o.opt[i].kind, l.buf);
      }
    }
    consider(0, kBottom, Overlap::kNone, -1);
    consider(-size, kTop, Overlap::kNone, -1);
    // Every bottom position has a_req and footprint at least those of base 0,
    // every top position at least those of base -size: once the best is no
    // worse than both, no later candidate can replace it.
    const int64_t lb_bottom_req = std::max(std::max(a_req, size), size + all_top);
    const int64_t lb_bottom_fp = std::max(keep_bottom, size) + keep_top;
    const int64_t lb_top_req = std::max(std::max(a_req, size), all_bottom + size);
    const int64_t lb_top_fp = keep_bottom + std::max(keep_top, size);
    auto dominates = [&](int64_t r, int64_t f) { return best_req < r || (best_req == r && best_fp <= f); };
    if (!(best_req >= 0 && dominates(lb_bottom_req, lb_bottom_fp) && dominates(lb_top_req, lb_top_fp))) {
      for (int jj = 0; jj < n_live; ++jj) {
        const Live l = s.live[jj];
        consider(l.base + l.size, l.anchor, Overlap::kNone, -1);
        consider(l.base - size, l.anchor, Overlap::kNone, -1);
      }
    }
    // Right below the lowest top-anchored buffer (or at the top if there is
    // none) never collides, so a candidate always exists.
    ws.chosen[j] = best;
    s.a_req = best_req;
    s.live[s.n_live++] = Live{j, b.last_op, best.base, size, best.anchor};
  }
  return s.a_req;
}

bool SameLiveSet(const State& a, const State& b) {
  if (a.n_live != b.n_live) return false;
  for (int i = 0; i < a.n_live; ++i) {
    bool found = false;
    for (int j = 0; j < b.n_live && !found; ++j) {
      found =
          a.live[i].buf == b.live[j].buf && a.live[i].base == b.live[j].base && a.live[i].anchor == b.live[j].anchor;
    }
    if (!found) return false;
  }
  return true;
}

// Beam search over the same candidates, keeping the `width` best distinct
// states (arena requirement, then footprint). Writes ws.chosen; returns the
// arena size.
int64_t Beam(const Graph& g, const std::vector<BufferPlacement>& bufs, Workspace& ws, int width) {
  ws.beam.resize(1);
  ws.beam[0] = State();
  ws.nodes.clear();
  for (int32_t j = 0; j < static_cast<int32_t>(bufs.size()); ++j) {
    const BufferPlacement& b = bufs[j];
    const OpOptions& o = OptionsFor(g, ws, b);
    ws.cands.clear();
    int32_t order = 0;
    for (int32_t si = 0; si < static_cast<int32_t>(ws.beam.size()); ++si) {
      State& s = ws.beam[si];
      DropDead(s, b.first_op);
      CheckLiveCount(g, s, b.first_op);
      ForEachCandidate(s, b.size, b.first_op, o, [&](const Placement& p, int64_t req, int64_t fp) {
        ws.cands.push_back(Candidate{si, order++, p, req, fp});
      });
    }
    std::sort(ws.cands.begin(), ws.cands.end(), [](const Candidate& x, const Candidate& y) {
      if (x.a_req != y.a_req) return x.a_req < y.a_req;
      if (x.footprint != y.footprint) return x.footprint < y.footprint;
      return x.order < y.order;
    });
    ws.next.clear();
    for (const Candidate& c : ws.cands) {
      if (static_cast<int>(ws.next.size()) >= width) break;
      const State& parent = ws.beam[c.state];
      ws.next.emplace_back();
      State& s = ws.next.back();
      s.a_req = c.a_req;
      s.n_live = parent.n_live;
      std::copy(parent.live, parent.live + parent.n_live, s.live);
      s.live[s.n_live++] = Live{j, b.last_op, c.place.base, b.size, c.place.anchor};
      bool duplicate = false;
      for (size_t i = 0; i + 1 < ws.next.size() && !duplicate; ++i) duplicate = SameLiveSet(ws.next[i], s);
      if (duplicate) {
        ws.next.pop_back();
        continue;
      }
      s.node = static_cast<int32_t>(ws.nodes.size());
      ws.nodes.push_back(Node{parent.node, j, c.place});
    }
    std::swap(ws.beam, ws.next);
  }
  // The beam is sorted: its first state is the best.
  for (int32_t n = ws.beam[0].node; n >= 0; n = ws.nodes[n].parent) ws.chosen[ws.nodes[n].buf] = ws.nodes[n].place;
  return ws.beam[0].a_req;
}

class TinyEnginePlanner final : public MemoryPlanner {
 public:
  std::string_view name() const override { return "tinyengine"; }
  void Plan(const Graph& g, MemoryPlan* out) const override;
};

// Writes the offsets and per-op plans of placement ws.chosen with arena size
// `arena` into `out`. Returns the lower bound on the arena of any plan: the
// most bytes that must coexist at one op given the allowed overlaps.
int64_t Finish(const Graph& g, const Workspace& ws, int64_t arena, MemoryPlan* out) {
  std::vector<BufferPlacement>& bufs = out->buffers;
  const int32_t n_ops = static_cast<int32_t>(g.ops.size());
  out->ops.assign(n_ops, OpPlan{});
  for (size_t j = 0; j < bufs.size(); ++j) {
    BufferPlacement& b = bufs[j];
    const Placement& p = ws.chosen[j];
    b.offset = p.base + (p.anchor == kTop ? arena : 0);
    if (p.overlap != Overlap::kNone) {
      out->ops[b.first_op].overlap = p.overlap;
      out->ops[b.first_op].overlap_input = bufs[p.overlap_buf].tensor;
    }
  }
  int64_t bound = 0, scratch = 0;
  size_t next = 0;
  // Live buffers at op k, sorted by offset: [offset, end), size, last_op.
  struct Active {
    int64_t offset, end, size;
    int32_t last_op;
  };
  Active active[kMaxLive];
  int n_active = 0;
  const size_t n_bufs = bufs.size();
  for (int32_t k = 0; k < n_ops; ++k) {
    OpPlan& op = out->ops[k];
    const Op& gop = g.ops[k];
    const int64_t sb = TinyEngineScratchBytes(g, gop, op.overlap);
    op.scratch_bytes = sb;
    scratch = std::max(scratch, sb);
    int j = 0;
    for (int i = 0; i < n_active; ++i) {
      if (active[i].last_op >= k) active[j++] = active[i];
    }
    n_active = j;
    int64_t sum = 0;
    // Insert the new buffers in offset order (after equal offsets).
    while (next < n_bufs && bufs[next].first_op <= k) {
      const BufferPlacement& b = bufs[next++];
      const Active a{b.offset, b.offset + b.size, b.size, b.last_op};
      int m = n_active++;
      for (; m > 0 && a.offset < active[m - 1].offset; --m) active[m] = active[m - 1];
      active[m] = a;
    }
    // The union of the sorted intervals.
    int64_t live = 0, end = 0;
    for (int i = 0; i < n_active; ++i) {
      const Active& a = active[i];
      live += std::max<int64_t>(a.end - std::max(a.offset, end), 0);
      end = std::max(end, a.end);
      sum += a.size;
    }
    op.live_bytes = live;
    const OpOptions& o = ws.options[k];
    if (o.n > 0) {
      int64_t saving = 0;
      const int64_t out_size = bufs[ws.tensor_buf[gop.output]].size;
      for (int i = 0; i < o.n; ++i) saving = std::max(saving, std::min(bufs[o.opt[i].input_buf].size, out_size));
      sum -= saving;
    }
    bound = std::max(bound, sum);
  }
  if (n_ops == 0) {
    for (const BufferPlacement& b : bufs) bound += b.size;
  }
  out->arena_bytes = arena;
  out->scratch_bytes = scratch;
  out->peak_sram_bytes = arena + scratch;
  return bound;
}

void TinyEnginePlanner::Plan(const Graph& g, MemoryPlan* out) const {
  out->Clear();
  out->planner = "tinyengine";
  Workspace& ws = GetWorkspace();
  CollectBuffers(g, ws, out);
  const std::vector<BufferPlacement>& bufs = out->buffers;
  const int32_t n_ops = static_cast<int32_t>(g.ops.size());
  ws.options.resize(n_ops);
  for (int32_t k = 0; k < n_ops; ++k) ws.options[k] = FindOverlapOptions(g, k, bufs, ws);

  ws.chosen.resize(bufs.size());
  const int64_t arena = Greedy(g, bufs, ws);
  const int64_t bound = Finish(g, ws, arena, out);
  if (arena == bound) return;
  // The greedy plan (already in `out`) misses the bound: try a wider search
  // and keep it if it is better.
  const int64_t wide = Beam(g, bufs, ws, kBeamWidth);
  if (wide < arena) Finish(g, ws, wide, out);
  if (std::min(wide, arena) > bound) {
    spdlog::debug("tinyengine planner: graph '{}' arena {} B, lower bound {} B (gap {} B)", g.name,
                  std::min(wide, arena), bound, std::min(wide, arena) - bound);
  }
}

}  // namespace

std::unique_ptr<MemoryPlanner> MakeTinyEnginePlanner() { return std::make_unique<TinyEnginePlanner>(); }

}  // namespace mcunet
