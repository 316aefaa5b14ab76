// Independent int8 reference runner shared by the tests: runs a folded graph
// op by op with the mcunet_ref_* kernels (straight transcriptions of the
// TFLite reference kernels), every tensor in its own buffer, no memory plan.
// Deliberately separate from the code generator.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <vector>

#include "mcunet/graph.h"
#include "mcunet/quantize_multiplier.h"
#include "mcunet_kernels.h"
#include "requantize.h"

namespace mcunet {
namespace {

// ---- Reference runner ------------------------------------------------------------

float ScaleOf(const Tensor& t) { return t.quant.scale.at(0); }
int32_t ZpOf(const Tensor& t) { return static_cast<int32_t>(t.quant.zero_point.at(0)); }

std::vector<int32_t> Int32Data(const Tensor& t) {
  std::vector<int32_t> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}

int64_t IntAt(const Tensor& t, size_t i) {
  if (t.dtype == DType::kInt64) {
    int64_t v;
    std::memcpy(&v, t.data.data() + 8 * i, 8);
    return v;
  }
  int32_t v;
  std::memcpy(&v, t.data.data() + 4 * i, 4);
  return v;
}

struct Requant {
  std::vector<int32_t> multiplier, shift;
};

Requant ConvRequant(const Graph& g, const Op& op, int64_t channels) {
  const Tensor& w = g.tensors[op.inputs[1]];
  std::vector<float> scales = w.quant.scale;
  if (scales.size() == 1) scales.assign(channels, scales[0]);
  Requant r;
  QuantizeConvMultipliers(ScaleOf(g.tensors[op.inputs[0]]), scales, ScaleOf(g.tensors[op.output]), &r.multiplier,
                          &r.shift);
  return r;
}

// TFLite's int8 MEAN over any axes (reference_ops::Mean when input and
// output share scale and zero point, else QuantizedMeanOrSum), written from
// the formulas over a full index walk.
void ReferenceMean(const Graph& g, const Op& op, const std::vector<int8_t>& in, std::vector<int8_t>* out) {
  const Tensor& ti = g.tensors[op.inputs[0]];
  const Tensor& to = g.tensors[op.output];
  const Shape& s = ti.shape;
  std::array<bool, 4> reduce{};
  if (op.inputs[1] < 0) reduce[1] = reduce[2] = true;  // lowered Arch: global pooling over H, W
  for (int64_t i = 0; op.inputs[1] >= 0 && i < g.tensors[op.inputs[1]].shape.elements(); ++i) {
    int64_t a = IntAt(g.tensors[op.inputs[1]], i);
    if (a < 0) a += s.rank;
    reduce[a] = true;
  }
  std::array<int64_t, 4> dims{1, 1, 1, 1};
  for (int d = 0; d < s.rank; ++d) dims[d] = s[d];
  int64_t n = 1;
  for (int d = 0; d < 4; ++d) n *= reduce[d] ? dims[d] : 1;
  std::vector<int32_t> sum(to.shape.elements(), 0);
  std::array<int64_t, 4> idx{};
  for (idx[0] = 0; idx[0] < dims[0]; ++idx[0])
    for (idx[1] = 0; idx[1] < dims[1]; ++idx[1])
      for (idx[2] = 0; idx[2] < dims[2]; ++idx[2])
        for (idx[3] = 0; idx[3] < dims[3]; ++idx[3]) {
          int64_t flat = 0, o = 0;
          for (int d = 0; d < 4; ++d) {
            flat = flat * dims[d] + idx[d];
            if (!reduce[d]) o = o * dims[d] + idx[d];
          }
          sum[o] += in[flat];
        }
  const MeanQuantization q = QuantizeMeanParams(ScaleOf(ti), ZpOf(ti), ScaleOf(to), ZpOf(to), n);
  out->resize(sum.size());
  for (size_t o = 0; o < sum.size(); ++o) {
    int32_t v;
    if (q.divide_only) {
      v = sum[o] / static_cast<int32_t>(n);
    } else {
      v = mcunet_multiply_by_quantized_multiplier(sum[o] - ZpOf(ti) * static_cast<int32_t>(n), q.folded.multiplier,
                                                  q.folded.shift) +
          ZpOf(to);
      v = std::clamp(v, -128, 127);
    }
    (*out)[o] = static_cast<int8_t>(v);
  }
}

void ReferenceTranspose(const Graph& g, const Op& op, const std::vector<int8_t>& in, std::vector<int8_t>* out) {
  const Shape& s = g.tensors[op.inputs[0]].shape;
  const Tensor& perm = g.tensors[op.inputs[1]];
  const Shape& os = g.tensors[op.output].shape;
  out->resize(os.elements());
  std::array<int64_t, 4> stride{1, 1, 1, 1};
  for (int d = s.rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * s[d + 1];
  for (int64_t o = 0; o < os.elements(); ++o) {
    int64_t rem = o, src = 0;
    for (int d = os.rank - 1; d >= 0; --d) {
      src += (rem % os[d]) * stride[IntAt(perm, d)];
      rem /= os[d];
    }
    (*out)[o] = in[src];
  }
}

// Runs folded graph `g` on one input; returns the graph output.
// If `all` is given it receives every tensor's values (indexed by tensor).
std::vector<int8_t> RunReference(const Graph& g, std::span<const int8_t> input,
                                 std::vector<std::vector<int8_t>>* all = nullptr) {
  std::vector<std::vector<int8_t>> buf(g.tensors.size());
  buf[g.inputs[0]].assign(input.begin(), input.end());
  for (const Op& op : g.ops) {
    const Tensor& out_t = g.tensors[op.output];
    std::vector<int8_t>& out = buf[op.output];
    out.assign(out_t.shape.elements(), 0);
    const Tensor& in_t = g.tensors[op.inputs[0]];
    const std::vector<int8_t>& in = buf[op.inputs[0]];
    const ActivationRange act =
        out_t.quant.empty() ? ActivationRange{} : QuantizedActivationRange(op.activation, ScaleOf(out_t), ZpOf(out_t));
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kPointwiseConv2D:
      case OpKind::kDepthwiseConv2D: {
        const Requant rq = ConvRequant(g, op, out_t.shape[3]);
        mcunet_conv_params p{};
        p.in_h = in_t.shape[1], p.in_w = in_t.shape[2], p.in_c = in_t.shape[3];
        p.out_h = out_t.shape[1], p.out_w = out_t.shape[2], p.out_c = out_t.shape[3];
        p.kernel_h = op.kernel_h, p.kernel_w = op.kernel_w;
        p.stride_h = op.stride_h, p.stride_w = op.stride_w;
        p.dilation_h = op.dilation_h, p.dilation_w = op.dilation_w;
        p.pad_top = op.pad_top, p.pad_left = op.pad_left;
        p.in_zp = ZpOf(in_t), p.out_zp = ZpOf(out_t);
        p.act_min = act.min, p.act_max = act.max;
        p.multiplier = rq.multiplier.data(), p.shift = rq.shift.data();
        const auto* w = reinterpret_cast<const int8_t*>(g.tensors[op.inputs[1]].data.data());
        const std::vector<int32_t> bias =
            op.inputs[2] >= 0 ? Int32Data(g.tensors[op.inputs[2]]) : std::vector<int32_t>{};
        const int32_t* b = bias.empty() ? nullptr : bias.data();
        if (op.kind == OpKind::kDepthwiseConv2D) {
          mcunet_ref_depthwise_conv2d_s8(&p, in.data(), w, b, out.data());
        } else {
          mcunet_ref_conv2d_s8(&p, in.data(), w, b, out.data());
        }
        break;
      }
      case OpKind::kAdd: {
        const Tensor& in2_t = g.tensors[op.inputs[1]];
        const AddQuantization q = QuantizeAddParams(ScaleOf(in_t), ScaleOf(in2_t), ScaleOf(out_t));
        const mcunet_add_params p{static_cast<int32_t>(out_t.shape.elements()),
                                  ZpOf(in_t),
                                  ZpOf(in2_t),
                                  ZpOf(out_t),
                                  q.left_shift,
                                  q.input1.multiplier,
                                  q.input1.shift,
                                  q.input2.multiplier,
                                  q.input2.shift,
                                  q.output.multiplier,
                                  q.output.shift,
                                  act.min,
                                  act.max};
        mcunet_ref_add_s8(&p, in.data(), buf[op.inputs[1]].data(), out.data());
        break;
      }
      case OpKind::kMean:
        ReferenceMean(g, op, in, &out);
        break;
      case OpKind::kAveragePool2D: {
        const mcunet_pool_params p{in_t.shape[1], in_t.shape[2], in_t.shape[3], out_t.shape[1], out_t.shape[2],
                                   op.kernel_h,   op.kernel_w,   op.stride_h,   op.stride_w,    op.pad_top,
                                   op.pad_left,   act.min,       act.max};
        EXPECT_EQ(mcunet_ref_avg_pool_s8(&p, in.data(), out.data()), 0);
        break;
      }
      case OpKind::kFullyConnected: {
        const Tensor& w = g.tensors[op.inputs[1]];
        const int32_t in_f = w.shape[1], out_f = w.shape[0];
        const bool per_channel = w.quant.scale.size() > 1;
        Requant rq;
        QuantizeConvMultipliers(ScaleOf(in_t), w.quant.scale, ScaleOf(out_t), &rq.multiplier, &rq.shift);
        const mcunet_fc_params p{in_f,           out_f,   ZpOf(in_t),          ZpOf(out_t),
                                 act.min,        act.max, per_channel ? 1 : 0, rq.multiplier.data(),
                                 rq.shift.data()};
        const std::vector<int32_t> bias =
            op.inputs[2] >= 0 ? Int32Data(g.tensors[op.inputs[2]]) : std::vector<int32_t>{};
        const int64_t rows = in_t.shape.elements() / in_f;
        for (int64_t r = 0; r < rows; ++r) {
          mcunet_ref_fully_connected_s8(&p, in.data() + r * in_f, reinterpret_cast<const int8_t*>(w.data.data()),
                                        bias.empty() ? nullptr : bias.data(), out.data() + r * out_f);
        }
        break;
      }
      case OpKind::kTranspose:
        ReferenceTranspose(g, op, in, &out);
        break;
      case OpKind::kReshape:
        out = in;
        break;
      default:
        ADD_FAILURE() << "reference runner: no kernel for " << OpKindName(op.kind);
    }
  }
  if (all != nullptr) *all = buf;
  return buf[g.outputs[0]];
}

}  // namespace
}  // namespace mcunet
