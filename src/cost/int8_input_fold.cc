// FoldInt8Input: removes the float I/O wrappers of a .tflite graph and folds
// PAD into the convolution it feeds (see mcunet/passes.h).
#include <cstring>
#include <string>
#include <vector>

#include "mcunet/error.h"
#include "mcunet/passes.h"

namespace mcunet {

namespace {

bool IsConv(OpKind k) { return k == OpKind::kConv2D || k == OpKind::kPointwiseConv2D || k == OpKind::kDepthwiseConv2D; }

bool IsInt8(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

// Readers of every tensor: number of op input slots plus graph outputs.
std::vector<int> CountReaders(const Graph& g) {
  std::vector<int> readers(g.tensors.size(), 0);
  for (const Op& op : g.ops) {
    for (int32_t t : op.inputs) {
      if (t >= 0) ++readers[t];
    }
  }
  for (int32_t t : g.outputs) ++readers[t];
  return readers;
}

// Index of the first op reading `t` as its data input (inputs[0]), or -1.
int FindReader(const Graph& g, int32_t t, const std::vector<char>& removed) {
  for (size_t k = 0; k < g.ops.size(); ++k) {
    if (!removed[k] && g.ops[k].inputs[0] == t) return static_cast<int>(k);
  }
  return -1;
}

// Leading PAD amounts (before) of the H and W axes of a PAD op, read from its
// constant paddings tensor [4, 2].
void ReadPadAmounts(const Graph& g, const Op& pad, int op_index, int* top, int* left) {
  const std::string where = "op " + std::to_string(op_index) + " (PAD)";
  const int32_t pt = pad.inputs[1];
  if (pt < 0) throw InvalidInput(where + ": has no paddings tensor");
  const Tensor& t = g.tensors[pt];
  const int size = DTypeSize(t.dtype);
  if ((t.dtype != DType::kInt32 && t.dtype != DType::kInt64) || t.shape.elements() != 8 ||
      t.data.size() != static_cast<size_t>(8 * size)) {
    throw InvalidInput(where + ": paddings tensor " + std::to_string(pt) + " " + t.shape.ToString() +
                       " should be constant int32/int64 [4,2] data");
  }
  int64_t v[8];
  for (int i = 0; i < 8; ++i) {
    if (size == 4) {
      int32_t x;
      std::memcpy(&x, t.data.data() + 4 * i, 4);
      v[i] = x;
    } else {
      std::memcpy(&v[i], t.data.data() + 8 * i, 8);
    }
  }
  if (v[0] != 0 || v[1] != 0 || v[6] != 0 || v[7] != 0) {
    throw InvalidInput(where + ": pads the batch or channel dimension; only H and W padding can fold into a conv");
  }
  for (int i = 2; i < 6; ++i) {
    if (v[i] < 0) throw InvalidInput(where + ": negative padding " + std::to_string(v[i]));
  }
  *top = static_cast<int>(v[2]);
  *left = static_cast<int>(v[4]);
}

// Marks the ops to remove and rewrites the kept ops / graph I/O in `out`.
// Returns whether anything changed.
bool Fold(const Graph& g, std::vector<char>* removed_out, std::vector<Op>* ops, std::vector<int32_t>* inputs,
          std::vector<int32_t>* outputs) {
  std::vector<char>& removed = *removed_out;
  removed.assign(g.ops.size(), 0);
  *ops = g.ops;
  *inputs = g.inputs;
  *outputs = g.outputs;
  const std::vector<int> readers = CountReaders(g);
  bool changed = false;

  // Leading QUANTIZE / TRANSPOSE chains.
  for (int32_t& in : *inputs) {
    int32_t cur = in;
    bool saw_quantize = false;
    std::vector<int> chain;
    while (readers[cur] == 1) {
      const int k = FindReader(g, cur, removed);
      if (k < 0) break;
      const OpKind kind = g.ops[k].kind;
      if (kind != OpKind::kQuantize && kind != OpKind::kTranspose) break;
      saw_quantize |= kind == OpKind::kQuantize;
      chain.push_back(k);
      cur = g.ops[k].output;
    }
    if (!saw_quantize || !IsInt8(g.tensors[cur].dtype) || g.tensors[cur].shape.rank != 4) continue;
    for (int k : chain) removed[k] = 1;
    in = cur;
    changed = true;
  }

  // PAD -> conv.
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const Op& pad = g.ops[k];
    if (removed[k] || pad.kind != OpKind::kPad || readers[pad.output] != 1) continue;
    const int c = FindReader(g, pad.output, removed);
    if (c < 0 || !IsConv(g.ops[c].kind)) continue;
    int top = 0, left = 0;
    ReadPadAmounts(g, pad, static_cast<int>(k), &top, &left);
    Op& conv = (*ops)[c];
    conv.inputs[0] = pad.inputs[0];
    conv.pad_top += top;
    conv.pad_left += left;
    const Shape& in_shape = g.tensors[pad.inputs[0]].shape;
    const Shape& out_shape = g.tensors[conv.output].shape;
    const bool same = in_shape.rank == 4 && out_shape.rank == 4 &&
                      out_shape[1] == (in_shape[1] + conv.stride_h - 1) / conv.stride_h &&
                      out_shape[2] == (in_shape[2] + conv.stride_w - 1) / conv.stride_w;
    conv.padding = same ? Padding::kSame : Padding::kValid;
    if (conv.kind == OpKind::kPointwiseConv2D && (conv.pad_top != 0 || conv.pad_left != 0 || !same)) {
      conv.kind = OpKind::kConv2D;
    }
    removed[k] = 1;
    changed = true;
  }

  // Trailing DEQUANTIZE.
  for (int32_t& out : *outputs) {
    if (readers[out] != 1) continue;
    for (size_t k = 0; k < g.ops.size(); ++k) {
      const Op& op = g.ops[k];
      if (removed[k] || op.output != out || op.kind != OpKind::kDequantize) continue;
      if (!IsInt8(g.tensors[op.inputs[0]].dtype)) continue;
      removed[k] = 1;
      out = op.inputs[0];
      changed = true;
      break;
    }
  }
  return changed;
}

}  // namespace

void FoldInt8Input(const Graph& g, Graph* out) {
  if (out == &g) throw InvalidInput("FoldInt8Input: output graph must not alias the input");
  std::vector<char> removed;
  std::vector<Op> ops;
  std::vector<int32_t> inputs, outputs;
  Fold(g, &removed, &ops, &inputs, &outputs);
  out->Clear();
  out->name = g.name;
  out->tensors = g.tensors;
  for (size_t k = 0; k < ops.size(); ++k) {
    if (!removed[k]) out->ops.push_back(ops[k]);
  }
  out->inputs = std::move(inputs);
  out->outputs = std::move(outputs);
}

Graph FoldInt8Input(const Graph& g) {
  Graph out;
  FoldInt8Input(g, &out);
  return out;
}

bool NeedsInt8InputFold(const Graph& g) {
  std::vector<char> removed;
  std::vector<Op> ops;
  std::vector<int32_t> inputs, outputs;
  return Fold(g, &removed, &ops, &inputs, &outputs);
}

}  // namespace mcunet
