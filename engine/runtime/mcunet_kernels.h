/* mcunet int8 kernel library: the runtime shared by the host and the firmware.
 *
 * Freestanding C99 (also compiles as C++): no heap, no libc beyond
 * memcpy/memset, no global state. Every kernel takes explicit pointers and a
 * params struct; none knows about the graph.
 *
 * Conventions
 *   - Tensors are NHWC with batch 1, int8, per-tensor asymmetric activations
 *     (zero points in [-128, 127]) and symmetric int8 weights (zero point 0).
 *   - Weight layouts are TFLite's: CONV_2D [out_c][kh][kw][in_c] (a pointwise
 *     conv is [out_c][in_c]), DEPTHWISE_CONV_2D [kh][kw][out_c],
 *     FULLY_CONNECTED [out][in]. Biases are int32 (may be NULL).
 *   - Requantisation is TFLite's, bit-exact (requantize.h): per output
 *     channel multiplier M in [2^30, 2^31) (or 0) and shift in [-31, 30].
 *   - act_min/act_max: the fused activation range already intersected with
 *     [-128, 127] (TFLite CalculateActivationRangeQuantized).
 *   - Activation pointers need no alignment (tensors are packed in the arena).
 *
 * Two families:
 *   mcunet_ref_*  straightforward transcriptions of the TFLite / TF-Lite Micro
 *                 reference int8 kernels; the specification the tests use.
 *   mcunet_*      the optimised portable kernels the generated code calls; each
 *                 equals its reference byte for byte, including when run in
 *                 place under the overlap contract of the tinyengine memory
 *                 planner (include/mcunet/passes.h, restated in kernels_opt.c).
 */
#ifndef MCUNET_RUNTIME_MCUNET_KERNELS_H_
#define MCUNET_RUNTIME_MCUNET_KERNELS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CONV_2D, pointwise conv and DEPTHWISE_CONV_2D. For depthwise,
 * out_c = in_c * depth_multiplier (the optimised kernels need multiplier 1).
 * dilation_h/dilation_w of 0 are read as 1. The output size is given, not
 * derived: in_y = out_y * stride_h - pad_top + ky * dilation_h, and taps
 * outside the input contribute nothing (0 after the zero-point offset). */
/* The shape fields are int16_t (48 bytes of Flash per layer instead of 84;
 * the code generator rejects larger values); kernels compute in int32. */
typedef struct mcunet_conv_params {
  int16_t in_h, in_w, in_c;
  int16_t out_h, out_w, out_c;
  int16_t kernel_h, kernel_w;
  int16_t stride_h, stride_w;
  int16_t dilation_h, dilation_w;
  int16_t pad_top, pad_left;
  int16_t in_zp, out_zp;
  int16_t act_min, act_max;
  const int32_t* multiplier; /* [out_c] */
  const int32_t* shift;      /* [out_c]; unused when shift8 is set */
  /* [out_c] the same shifts as int8 ([-31, 30] fits), 1 byte of Flash per
   * channel instead of 4: what the generated code uses (shift = NULL). */
  const int8_t* shift8;
} mcunet_conv_params;

/* The requantisation shift of output channel c. */
static inline int32_t mcunet_conv_shift(const mcunet_conv_params* p, int32_t c) {
  return p->shift8 ? (int32_t)p->shift8[c] : p->shift[c];
}

/* ADD (same shapes, no broadcast), TF-Lite Micro's scheme: left_shift 20,
 * in*_multiplier/shift = QuantizeMultiplierSmallerThanOneExp(s_i / (2 max(s1, s2))),
 * out_multiplier/shift = ... (2 max(s1, s2) / (2^20 s_out)); all shifts <= 0. */
typedef struct mcunet_add_params {
  int32_t size; /* elements */
  int32_t in1_zp, in2_zp, out_zp;
  int32_t left_shift;
  int32_t in1_multiplier, in1_shift;
  int32_t in2_multiplier, in2_shift;
  int32_t out_multiplier, out_shift;
  int32_t act_min, act_max;
} mcunet_add_params;

/* MEAN over H and W (global average pooling), output [1, 1, 1, c], exactly as
 * TF-Lite Micro's int8 reference MEAN (reduce_common.cc EvalIntegerMean):
 *   divide_only = 1 when input and output share scale and zero point:
 *     out = (int8)(sum(q) / n)            (C division, truncates toward 0)
 *   divide_only = 0 otherwise:
 *     out = clamp(MBQM(sum(q) - in_zp * n, multiplier, shift) + out_zp)
 *     with multiplier/shift = QuantizeMultiplier(s_in / s_out) folded with
 *     1/n by mcunet_mean_fold_multiplier (requantize.h).
 * The host helper mcunet::QuantizeMeanParams fills these fields. */
typedef struct mcunet_mean_params {
  int32_t in_h, in_w, c;
  int32_t in_zp, out_zp;
  int32_t divide_only;
  int32_t multiplier, shift; /* folded; unused when divide_only */
} mcunet_mean_params;

/* AVERAGE_POOL_2D (input and output share scale and zero point). */
typedef struct mcunet_pool_params {
  int32_t in_h, in_w, c;
  int32_t out_h, out_w;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  int32_t act_min, act_max;
} mcunet_pool_params;

/* FULLY_CONNECTED: out[o] = requant(sum_i w[o][i] (x[i] - in_zp) + bias[o]).
 * per_channel = 0: multiplier[0]/shift[0] for every output (the spec's
 * per-tensor FC); 1: one per output (CMSIS-NN's per-channel FC). */
typedef struct mcunet_fc_params {
  int32_t in_features, out_features;
  int32_t in_zp, out_zp;
  int32_t act_min, act_max;
  int32_t per_channel;
  const int32_t* multiplier;
  const int32_t* shift;
} mcunet_fc_params;

/* ---- Reference kernels (kernels_ref.c) ------------------------------------ */

void mcunet_ref_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                          const int32_t* bias, int8_t* output);
void mcunet_ref_depthwise_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                                    const int32_t* bias, int8_t* output);
void mcunet_ref_add_s8(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output);
void mcunet_ref_mean_s8(const mcunet_mean_params* p, const int8_t* input, int8_t* output);
/* Returns 0, or -1 (TFLite's failure) if some window holds no input pixel. */
int mcunet_ref_avg_pool_s8(const mcunet_pool_params* p, const int8_t* input, int8_t* output);
void mcunet_ref_fully_connected_s8(const mcunet_fc_params* p, const int8_t* input, const int8_t* weights,
                                   const int32_t* bias, int8_t* output);
/* QUANTIZE float -> int8 (TFLite AffineQuantize): clamp(round(x / scale) + zp)
 * with round half away from zero in float; NaN maps to zp. For host tests. */
void mcunet_ref_quantize_f32_s8(const float* input, int8_t* output, int32_t size, float scale, int32_t zero_point);
/* DEQUANTIZE int8 -> float: (q - zp) * scale. */
void mcunet_ref_dequantize_s8_f32(const int8_t* input, float* output, int32_t size, float scale, int32_t zero_point);

/* ---- Optimised kernels (kernels_opt.c) ------------------------------------ */

/* General k x k CONV_2D (the first conv): im2col of two output pixels at a
 * time into `scratch`, widened to int16 with the input offset applied.
 * Scratch: 2 * kernel_h * kernel_w * in_c int16 values
 * (= mcunet_conv2d_scratch_bytes), 2-byte aligned. Output must not overlap
 * the input. Any stride, padding and dilation. */
void mcunet_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                      int8_t* output, int16_t* scratch);
size_t mcunet_conv2d_scratch_bytes(const mcunet_conv_params* p);

/* 1x1 conv, stride 1, no padding, over n = in_h * in_w pixels. For each pixel
 * in `order` the kernel copies input pixel p (in_c bytes) to `scratch`, then
 * computes and writes output pixel p. With MCUNET_ORDER_FORWARD (p = 0..n-1)
 * the output may overlap the input when out - in <= min_{q=1..n-1} (a-b)*q;
 * with MCUNET_ORDER_REVERSE (p = n-1..0) when out - in >= max_{q=1..n-1}
 * (a-b)*q, where a = in_c and b = out_c (mcunet::PointwiseOverlapSafe).
 * The Cortex-M (DSP) kernel stages two pixels at a time (p and the next in
 * order, both read before either output is written, which the condition
 * allows), widened to int16. Scratch: 4 * in_c bytes
 * (= mcunet_pointwise_scratch_bytes), 4-byte aligned. */
enum { MCUNET_ORDER_FORWARD = 0, MCUNET_ORDER_REVERSE = 1 };
void mcunet_pointwise_conv_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                              const int32_t* bias, int8_t* output, int8_t* scratch, int32_t order);
size_t mcunet_pointwise_scratch_bytes(const mcunet_conv_params* p);

/* DEPTHWISE_CONV_2D, depth multiplier 1, padding inside the kernel.
 * Out of place (output disjoint from input): no scratch. */
void mcunet_depthwise_conv_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                              const int32_t* bias, int8_t* output);
/* In place: `buffer` holds the input [in_h, in_w, c] and receives the output
 * [out_h, out_w, c] at the same address (out_h * out_w <= in_h * in_w). For
 * each channel c in order, all out_h * out_w outputs of channel c are computed
 * into `scratch` (reading channel c of the input), then stored into bytes
 * (y * out_w + x) * c_total + c. Only channel c's slots are written, and they
 * are not read again. Bytes at and beyond out_h * out_w * c are untouched.
 * Scratch: out_h * out_w bytes. */
void mcunet_depthwise_conv_s8_inplace(const mcunet_conv_params* p, int8_t* buffer, const int8_t* weights,
                                      const int32_t* bias, int8_t* scratch);
/* The same, specialised per kernel size and stride (dilation 1, square
 * kernel); the two functions above dispatch to them. */
#define MCUNET_DECLARE_DW(K, S)                                                                              \
  void mcunet_depthwise_conv_s8_k##K##s##S(const mcunet_conv_params* p, const int8_t* input,                 \
                                           const int8_t* weights, const int32_t* bias, int8_t* output);      \
  void mcunet_depthwise_conv_s8_inplace_k##K##s##S(const mcunet_conv_params* p, int8_t* buffer,              \
                                                   const int8_t* weights, const int32_t* bias, int8_t* scratch);
MCUNET_DECLARE_DW(3, 1)
MCUNET_DECLARE_DW(3, 2)
MCUNET_DECLARE_DW(5, 1)
MCUNET_DECLARE_DW(5, 2)
MCUNET_DECLARE_DW(7, 1)
MCUNET_DECLARE_DW(7, 2)
#undef MCUNET_DECLARE_DW

/* ADD; output may be exactly input1 or input2 (element i is read from both
 * inputs before it is written). */
void mcunet_add_s8(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output);
/* MEAN over H, W: per channel, H*W strided reads into an int32 register. */
void mcunet_mean_s8(const mcunet_mean_params* p, const int8_t* input, int8_t* output);
int mcunet_avg_pool_s8(const mcunet_pool_params* p, const int8_t* input, int8_t* output);
void mcunet_fully_connected_s8(const mcunet_fc_params* p, const int8_t* input, const int8_t* weights,
                               const int32_t* bias, int8_t* output);

#ifdef __cplusplus
}
#endif

#endif /* MCUNET_RUNTIME_MCUNET_KERNELS_H_ */
