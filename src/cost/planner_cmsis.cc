// "cmsis": layer by layer as TF-Lite Micro runs an int8 graph with its
// CMSIS-NN kernels (tensorflow/lite/micro/kernels/cmsis_nn/*.cc) on a
// Cortex-M7 with the DSP extension (ARM_MATH_DSP, no MVE), built with GCC.
//
// The arena is TFLM's: same AllocationInfoBuilder lifetimes and
// GreedyMemoryPlanner placement as "tflm" (tflm::PlanGreedy). Only the
// scratch requests differ: each CMSIS-NN kernel's Prepare requests what the
// CMSIS-NN buffer-size function returns, via RequestScratchBufferInArena,
// when it is > 0. Like TFLM, the scratch buffers are planned in the arena
// head with a one-op lifetime (so MemoryPlan::scratch_bytes = 0), which is
// what a TFLM+CMSIS-NN build really allocates; a separate shared buffer sized
// by the largest request would describe TinyEngine, not this baseline.
//
// Buffer sizes, from ARM-software/CMSIS-NN (read, not copied):
//  * Source/ConvolutionFunctions/arm_convolve_get_buffer_sizes_s8.c
//    (V.2.3.0, 6 Mar 2026; the DSP branch is unchanged since V.1.4.0,
//    30 Oct 2023), arm_convolve_wrapper_s8_get_buffer_size_dsp:
//    - 1x1 filter, padding 0, dilation 1 (arm_nn_is_convolve_1x1):
//      stride 1 -> arm_convolve_1x1_s8_fast: 2 * C_in * sizeof(int16_t) with
//      Arm Compiler >= 6.01.0050, 0 with GCC (our toolchain);
//      other strides -> arm_convolve_1x1_s8: 0;
//    - otherwise (1_x_n or general): arm_convolve_s8_get_buffer_size =
//      2 * align4(kH * kW * C_in) * sizeof(int16_t).
//  * Source/ConvolutionFunctions/arm_depthwise_conv_get_buffer_sizes_s8.c
//    (V.1.0.0, 20 Jan 2023), arm_depthwise_conv_wrapper_s8_get_buffer_size
//    with ARM_MATH_DSP: if C_in == C_out, batch 1, dilation 1: a 3x3 filter
//    with padding <= 1 (arm_depthwise_conv_3x3_s8) -> 0, else
//    arm_depthwise_conv_s8_opt -> C_in * kH * kW * sizeof(int16_t);
//    channel multiplier != 1 (arm_depthwise_conv_s8) -> 0.
//  * Source/FullyConnectedFunctions/arm_fully_connected_get_buffer_sizes_s8.c
//    (V.1.0.0, 13 Jan 2023): arm_fully_connected_s8 -> 0.
//  * Source/PoolingFunctions/arm_avgpool_get_buffer_sizes_s8.c (V.1.0.0,
//    25 Jan 2023), DSP: C * sizeof(int32_t).
//  * TFLM has no CMSIS-NN MEAN, QUANTIZE, DEQUANTIZE or RESHAPE: those run the
//    reference kernels (MEAN int8 asks NumElements(output) * 4). CMSIS-NN's
//    ADD, PAD, TRANSPOSE and SOFTMAX (int8) request nothing.
// The padding passed to the wrappers is TFLM's ComputePaddingHeightWidth
// (the top/left half of the total "same" padding, 0 for "valid").
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

#include "cost/planners.h"
#include "cost/tflm_greedy.h"
#include "mcunet/graph.h"
#include "mcunet/memory_plan.h"

namespace mcunet {
namespace {

// TFLM's ComputePaddingWithOffset: the leading half of the total padding.
int LeadingPadding(int stride, int dilation, int in_size, int filter_size, int out_size) {
  const int effective_filter = (filter_size - 1) * dilation + 1;
  const int total = std::max((out_size - 1) * stride + effective_filter - in_size, 0);
  return total / 2;
}

struct ConvGeometry {
  int batch = 1, in_h = 1, in_w = 1, in_c = 1;
  int out_h = 1, out_w = 1, out_c = 1;
  int pad_h = 0, pad_w = 0;
};

ConvGeometry Geometry(const Graph& g, const Op& op) {
  const Shape& in = g.tensors[op.inputs[0]].shape;
  const Shape& out = g.tensors[op.output].shape;
  ConvGeometry geo;
  geo.batch = in[0];
  geo.in_h = in[1];
  geo.in_w = in[2];
  geo.in_c = in[3];
  geo.out_h = out[1];
  geo.out_w = out[2];
  geo.out_c = out[3];
  geo.pad_h = LeadingPadding(op.stride_h, op.dilation_h, geo.in_h, op.kernel_h, geo.out_h);
  geo.pad_w = LeadingPadding(op.stride_w, op.dilation_w, geo.in_w, op.kernel_w, geo.out_w);
  return geo;
}

int64_t ConvolveS8BufferSize(int kernel_h, int kernel_w, int in_c) {
  const int64_t rhs_cols = static_cast<int64_t>(kernel_h) * kernel_w * in_c;
  const int64_t aligned = (rhs_cols + 3) / 4 * 4;
  return 2 * aligned * static_cast<int64_t>(sizeof(int16_t));
}

int64_t CmsisScratchBytes(const Graph& g, const Op& op) {
  if (op.inputs[0] < 0 || op.output < 0) return 0;
  const Tensor& input = g.tensors[op.inputs[0]];
  const bool int8 = input.dtype == DType::kInt8;
  switch (op.kind) {
    case OpKind::kConv2D:
    case OpKind::kPointwiseConv2D: {
      if (!int8 || input.shape.rank != 4) return 0;
      const ConvGeometry geo = Geometry(g, op);
      const bool is_1x1 = op.kernel_h == 1 && op.kernel_w == 1 && geo.pad_h == 0 && geo.pad_w == 0 &&
                          op.dilation_h == 1 && op.dilation_w == 1;
      if (is_1x1) return 0;  // arm_convolve_1x1_s8_fast (GCC) / arm_convolve_1x1_s8
      return ConvolveS8BufferSize(op.kernel_h, op.kernel_w, geo.in_c);
    }
    case OpKind::kDepthwiseConv2D: {
      if (!int8 || input.shape.rank != 4) return 0;
      const ConvGeometry geo = Geometry(g, op);
      if (geo.in_c != geo.out_c || geo.batch != 1 || op.dilation_h != 1 || op.dilation_w != 1) return 0;
      if (op.kernel_h == 3 && op.kernel_w == 3 && geo.pad_h <= 1 && geo.pad_w <= 1) return 0;
      return static_cast<int64_t>(geo.in_c) * op.kernel_h * op.kernel_w *
             static_cast<int64_t>(sizeof(int16_t));
    }
    case OpKind::kAveragePool2D: {
      if (!int8) return 0;
      const Shape& out = g.tensors[op.output].shape;
      return static_cast<int64_t>(out[out.rank - 1]) * static_cast<int64_t>(sizeof(int32_t));
    }
    case OpKind::kFullyConnected:
      return 0;
    default:
      return tflm::ReferenceScratchBytes(g, op);
  }
}

class CmsisPlanner final : public MemoryPlanner {
 public:
  std::string_view name() const override { return "cmsis"; }
  void Plan(const Graph& g, MemoryPlan* out) const override {
    tflm::PlanGreedy(g, &CmsisScratchBytes, name(), out);
  }
  using MemoryPlanner::Plan;
};

}  // namespace

std::unique_ptr<MemoryPlanner> MakeCmsisPlanner() { return std::make_unique<CmsisPlanner>(); }

}  // namespace mcunet
