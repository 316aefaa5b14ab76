// Graph passes and the overlap contract shared by the tinyengine memory
// planner, the code generator and the int8 kernels.
#pragma once

#include <cstdint>

#include "mcunet/graph.h"
#include "mcunet/memory_plan.h"

namespace mcunet {

// ---- int8 input/output folding (what TinyEngine does to a .tflite) ----------
//
// A .tflite converted with float I/O starts with
//   float input -> QUANTIZE -> [TRANSPOSE] -> [PAD] -> CONV_2D / DEPTHWISE_CONV_2D
// and ends with ... -> DEQUANTIZE -> float output. FoldInt8Input returns the
// same network running int8 end to end:
//   - the leading QUANTIZE and TRANSPOSE ops (in either order, any number of
//     each, each the only reader of its input) are removed; the graph input
//     becomes the int8 tensor they produced (NHWC, with that tensor's quant
//     params), so the caller feeds int8 NHWC data;
//   - a PAD that feeds a convolution (as its only reader; anywhere in the
//     graph, as TinyEngine fuses Conv+Pad) is folded into that convolution:
//     its input becomes the PAD's input, the PAD's leading amounts are added
//     to pad_top / pad_left, and `padding` becomes kSame if
//     the output size is ceil(in / stride), else kValid. Kernels always use
//     pad_top / pad_left and the output shape, never `padding` alone; the
//     padded value is the input zero point (TFLite PAD), which is exactly what
//     in-kernel padding of an int8 conv contributes (0 after the offset). A
//     1x1 conv that gains padding becomes a kConv2D;
//   - a trailing DEQUANTIZE that produces a graph output is removed; the graph
//     output becomes its int8 input. (SOFTMAX and everything else stay.)
// Tensor indices are preserved: `tensors` is copied unchanged (the folded-away
// float tensors stay in it, unreferenced), only `ops`, `inputs` and `outputs`
// change, and every remaining op keeps its `source_index`. So a plan of the
// folded graph names the same tensors as the caller's graph.
// A graph that has none of these ops is returned unchanged. Throws
// InvalidInput if the PAD amounts cannot be read (paddings tensor without
// int32/int64 data of shape [4,2]) or pad the batch/channel dimensions.
//
// Planners plan exactly the graph they are given (one OpPlan per op); the
// cost model and the code generator call FoldInt8Input before the tinyengine
// planner to get TinyEngine's int8-I/O figure, and the tflm baseline plans
// the unfolded graph, as TF-Lite Micro runs it.
Graph FoldInt8Input(const Graph& g);
// Same, writing into `out` (cleared first). `out` must not alias `g`.
void FoldInt8Input(const Graph& g, Graph* out);
// Whether FoldInt8Input would change `g`.
bool NeedsInt8InputFold(const Graph& g);

// ---- The overlap contract of the tinyengine schedule ------------------------
//
// Every op reads its inputs and writes its output in the arena at the offsets
// of the MemoryPlan; scratch is one shared buffer outside the arena of
// MemoryPlan::scratch_bytes (= max over ops, paper Eq. 1). Per kernel kind:
//
//  CONV_2D (general k x k, the first conv): never overlaps its input.
//    Scratch: an im2col of two output pixels as int16 (SMLAD pairs),
//    2 * 2 * kh * kw * Cin bytes.
//  DEPTHWISE_CONV_2D, kNone: reads input, writes output directly; scratch 0.
//  DEPTHWISE_CONV_2D, kInPlaceDepthwise (depth multiplier 1, the input dies
//    here): output offset == input offset. For each channel c in order:
//    compute all Ho*Wo outputs of channel c into scratch, reading channel c of
//    the input in the arena (stride C, padding handled in-kernel), then store
//    scratch into channel c of the output (byte (y*Wo+x)*C + c). Only channel
//    c's bytes are written, and they are no longer read. Scratch: Ho*Wo bytes
//    (one output channel; <= H*W, 4x smaller for stride 2).
//  CONV_2D 1x1 (pointwise), any overlap: for each pixel p in the order of the
//    overlap (first to last for kNone and kPointwiseForward, last to first for
//    kPointwiseReverse): copy input pixel p (Cin bytes) to scratch, then
//    compute and write output pixel p (Cout bytes) from scratch. The Cortex-M
//    kernel takes pixels two at a time (p and the next in order, both copied
//    before either is written: safe, since output p never touches input p+1)
//    and widens them to int16 for SMLAD. Scratch: 2 * 2 * Cin bytes. The
//    offsets satisfy PointwiseOverlapSafe below.
//  ADD, kElementwise: output offset == offset of the input it overwrites (same
//    size); element i is read from both inputs before it is written. kNone
//    otherwise. Scratch 0.
//  RESHAPE, kElementwise: output offset == input offset: a no-op. Scratch 0.
//  MEAN (global average pool): per channel, accumulate H*W strided reads in an
//    int32 register, then write the channel; never overlaps. Scratch 0.
//  AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX, QUANTIZE, DEQUANTIZE, TRANSPOSE,
//    PAD: never overlap. Scratch 0.
// Tensor starts are not aligned (int8, no padding between tensors); kernels
// must not assume word-aligned activation pointers.
//
// Scratch bytes `op` asks for when planned with `overlap`.
int64_t TinyEngineScratchBytes(const Graph& g, const Op& op, Overlap overlap);

// Whether a 1x1 conv over `n` pixels, input pixel size `a` bytes at offset
// `in`, output pixel size `b` bytes at offset `out`, processed in the order of
// `dir` (kPointwiseForward or kPointwiseReverse) with input pixels staged in
// scratch (pixel p, or p and the next in order together), never overwrites an
// input byte before reading it. Exact
// conditions (derived in planner_tinyengine.cc, brute-force tested):
//   disjoint (out >= in + a*n or out + b*n <= in), or n <= 1, or
//   forward: out - in <= min_{p=1..n-1} (a-b)*p  = (a-b) if a >= b, else (a-b)*(n-1)
//   reverse: out - in >= max_{p=1..n-1} (a-b)*p  = (a-b) if a <= b, else (a-b)*(n-1)
// In particular an output aligned to the input's start (out == in) is safe
// forward for a >= b and reverse for a <= b, and one aligned to the input's
// end (out + b*n == in + a*n) reverse for a >= b and forward for a <= b.
bool PointwiseOverlapSafe(Overlap dir, int64_t in, int64_t out, int64_t a, int64_t b, int64_t n);

}  // namespace mcunet
