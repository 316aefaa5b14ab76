/* Optimised portable int8 kernels: what the generated code calls.
 *
 * Every kernel equals its mcunet_ref_* counterpart byte for byte
 * (tests/cpp/kernels_test.cc). They differ from the references only in loop
 * order, in staging data in the scratch buffer, and in precomputing
 * zero-point corrections (sum_k w_k (x_k - zp) = sum_k w_k x_k - zp sum_k w_k,
 * equal in int32 arithmetic).
 *
 * ---- Overlap contract (the tinyengine planner's, include/mcunet/passes.h) ----
 * Scratch is one shared buffer outside the arena, sized by the largest
 * request (MemoryPlan::scratch_bytes); OpPlan::scratch_bytes per op is:
 *
 *   CONV_2D (general k x k): never overlaps its input. Scratch: im2col of two
 *     output pixels as int16 = 2 * 2 * kh * kw * in_c bytes, 2-byte aligned.
 *   DEPTHWISE_CONV_2D, kNone: reads input, writes output directly; scratch 0
 *     (mcunet_depthwise_conv_s8).
 *   DEPTHWISE_CONV_2D, kInPlaceDepthwise (depth multiplier 1): output offset
 *     == input offset. For each channel c in order: compute the out_h*out_w
 *     outputs of channel c into scratch, reading channel c of the input in
 *     the arena (stride C, padding in-kernel), then store scratch into bytes
 *     (y*out_w + x)*C + c. Only channel c's slots are written, and only after
 *     channel c has been read for the last time; out_h*out_w <= in_h*in_w, so
 *     they are all slots of input channel c. Scratch: out_h*out_w bytes
 *     (mcunet_depthwise_conv_s8_inplace[_kKsS]).
 *   CONV_2D 1x1 (pointwise), kNone / kPointwiseForward / kPointwiseReverse:
 *     for each pixel p in order (0..n-1 for kNone and forward, n-1..0 for
 *     reverse): copy input pixel p (in_c bytes) to scratch, then compute and
 *     write output pixel p (out_c bytes) from scratch. Scratch: in_c bytes.
 *     Safe whenever mcunet::PointwiseOverlapSafe(dir, in, out, a, b, n) holds
 *     (the tests run every offset it allows on small shapes).
 *   ADD, kElementwise: output == one of the inputs (same size); element i is
 *     read from both inputs before it is written. Scratch 0.
 *   MEAN: per channel, H*W strided reads in an int32 register; never
 *     overlaps. AVERAGE_POOL_2D, FULLY_CONNECTED: never overlap. Scratch 0.
 * Activation pointers may be unaligned (int8 tensors are packed).
 * Note: memory_plan.h's one-line comment on kInPlaceDepthwise ("copies one
 * input channel to scratch, then writes that output channel") would need
 * in_h*in_w bytes; this file follows passes.h and the planner's
 * TinyEngineScratchBytes (one *output* channel, out_h*out_w bytes).
 * ----------------------------------------------------------------------------
 */
#include <string.h>

#include "mcunet_kernels.h"
#include "requantize.h"

#if defined(__GNUC__) || defined(__clang__)
#define MCUNET_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define MCUNET_ALWAYS_INLINE inline
#endif

static MCUNET_ALWAYS_INLINE int8_t requant_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_zp,
                                              int32_t act_min, int32_t act_max) {
  acc = mcunet_multiply_by_quantized_multiplier(acc, multiplier, shift) + out_zp;
  return (int8_t)mcunet_clamp_i32(acc, act_min, act_max);
}

/* ---- CONV_2D via im2col of two output pixels ------------------------------- */

size_t mcunet_conv2d_scratch_bytes(const mcunet_conv_params* p) {
  return (size_t)2 * 2 * (size_t)p->kernel_h * (size_t)p->kernel_w * (size_t)p->in_c;
}

/* Column of output pixel (oy, ox) in the weights' (ky, kx, ic) order, each
 * value x - in_zp as int16; taps outside the input are 0. */
static void im2col_pixel(const mcunet_conv_params* p, const int8_t* input, int32_t oy, int32_t ox, int16_t* col) {
  const int32_t dh = p->dilation_h > 0 ? p->dilation_h : 1;
  const int32_t dw = p->dilation_w > 0 ? p->dilation_w : 1;
  const int32_t in_y0 = oy * p->stride_h - p->pad_top;
  const int32_t in_x0 = ox * p->stride_w - p->pad_left;
  const int32_t cin = p->in_c;
  int32_t ky, kx, ic;
  for (ky = 0; ky < p->kernel_h; ++ky) {
    const int32_t iy = in_y0 + ky * dh;
    for (kx = 0; kx < p->kernel_w; ++kx) {
      const int32_t ix = in_x0 + kx * dw;
      if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
        for (ic = 0; ic < cin; ++ic) col[ic] = 0;
      } else {
        const int8_t* src = input + (iy * p->in_w + ix) * cin;
        for (ic = 0; ic < cin; ++ic) col[ic] = (int16_t)(src[ic] - p->in_zp);
      }
      col += cin;
    }
  }
}

void mcunet_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                      int8_t* output, int16_t* scratch) {
  const int32_t depth = p->kernel_h * p->kernel_w * p->in_c;
  const int32_t n = p->out_h * p->out_w;
  int16_t* col0 = scratch;
  int16_t* col1 = scratch + depth;
  int32_t px = 0;
  int32_t oc, k;
  for (; px + 1 < n; px += 2) {
    int8_t* out0 = output + px * p->out_c;
    int8_t* out1 = out0 + p->out_c;
    im2col_pixel(p, input, px / p->out_w, px % p->out_w, col0);
    im2col_pixel(p, input, (px + 1) / p->out_w, (px + 1) % p->out_w, col1);
    for (oc = 0; oc < p->out_c; ++oc) {
      const int8_t* w = weights + oc * depth;
      int32_t acc0 = bias ? bias[oc] : 0;
      int32_t acc1 = acc0;
      for (k = 0; k < depth; ++k) {
        const int32_t wv = w[k];
        acc0 += wv * col0[k];
        acc1 += wv * col1[k];
      }
      out0[oc] = requant_s8(acc0, p->multiplier[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max);
      out1[oc] = requant_s8(acc1, p->multiplier[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max);
    }
  }
  if (px < n) {
    int8_t* out0 = output + px * p->out_c;
    im2col_pixel(p, input, px / p->out_w, px % p->out_w, col0);
    for (oc = 0; oc < p->out_c; ++oc) {
      const int8_t* w = weights + oc * depth;
      int32_t acc0 = bias ? bias[oc] : 0;
      for (k = 0; k < depth; ++k) acc0 += (int32_t)w[k] * col0[k];
      out0[oc] = requant_s8(acc0, p->multiplier[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max);
    }
  }
}

/* ---- Pointwise (1x1) conv with the forward / reverse overlap orders -------- */

void mcunet_pointwise_conv_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                              const int32_t* bias, int8_t* output, int8_t* scratch, int32_t order) {
  const int32_t n = p->in_h * p->in_w;
  const int32_t a = p->in_c;
  const int32_t b = p->out_c;
  const int32_t input_offset = -p->in_zp;
  int32_t i, oc, ic;
  for (i = 0; i < n; ++i) {
    const int32_t px = order == MCUNET_ORDER_REVERSE ? n - 1 - i : i;
    int8_t* out = output + px * b;
    /* Stage input pixel px: from here on its bytes in the arena may be
     * overwritten by output pixel px. */
    memcpy(scratch, input + px * a, (size_t)a);
    for (oc = 0; oc < b; ++oc) {
      /* sum_ic w (x - zp) = sum_ic w x - zp sum_ic w: int8 x int8 products,
       * which vectorise well on the host (and map to SMLAD on Cortex-M). */
      const int8_t* w = weights + oc * a;
      int32_t acc_wx = 0, acc_w = 0;
      for (ic = 0; ic < a; ++ic) {
        acc_wx += w[ic] * scratch[ic];
        acc_w += w[ic];
      }
      acc_wx += input_offset * acc_w;
      if (bias) acc_wx += bias[oc];
      out[oc] = requant_s8(acc_wx, p->multiplier[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max);
    }
  }
}

/* ---- Depthwise conv, per channel, specialised per kernel size and stride --- */

/* Computes the out_h*out_w outputs of channel c into dst[i * dst_stride]
 * (i = y*out_w + x). `in` points at channel c of pixel 0 (pixel stride
 * in_c); the weights are TFLite's [kh][kw][C]. Dilation 1, kh*kw <= 49. */
static MCUNET_ALWAYS_INLINE void dw_channel_fixed(const mcunet_conv_params* p, const int8_t* in, const int8_t* weights,
                                                  const int32_t* bias, int32_t c, int8_t* dst, int32_t dst_stride,
                                                  const int32_t KH, const int32_t KW, const int32_t SH,
                                                  const int32_t SW) {
  const int32_t C = p->in_c;
  const int32_t H = p->in_h;
  const int32_t W = p->in_w;
  const int32_t input_offset = -p->in_zp;
  const int32_t mult = p->multiplier[c];
  const int32_t shift = p->shift[c];
  const int32_t b = bias ? bias[c] : 0;
  int16_t wk[49];
  int32_t wsum = 0;
  int32_t interior_bias;
  int32_t oy, ox, ky, kx;
  for (ky = 0; ky < KH; ++ky) {
    for (kx = 0; kx < KW; ++kx) {
      wk[ky * KW + kx] = weights[(ky * KW + kx) * C + c];
      wsum += wk[ky * KW + kx];
    }
  }
  interior_bias = b + input_offset * wsum;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t iy0 = oy * SH - p->pad_top;
    const int row_inside = iy0 >= 0 && iy0 + KH <= H;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t ix0 = ox * SW - p->pad_left;
      int32_t acc;
      if (row_inside && ix0 >= 0 && ix0 + KW <= W) {
        const int8_t* src = in + (iy0 * W + ix0) * C;
        acc = interior_bias;
        for (ky = 0; ky < KH; ++ky) {
          const int8_t* row = src + ky * W * C;
          for (kx = 0; kx < KW; ++kx) acc += wk[ky * KW + kx] * row[kx * C];
        }
      } else {
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = H - iy0 < KH ? H - iy0 : KH;
        const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
        const int32_t kx1 = W - ix0 < KW ? W - ix0 : KW;
        acc = b;
        for (ky = ky0; ky < ky1; ++ky) {
          const int32_t row = (iy0 + ky) * W + ix0; /* may be < 0 at kx = 0: index, not pointer */
          for (kx = kx0; kx < kx1; ++kx) acc += wk[ky * KW + kx] * (in[(row + kx) * C] + input_offset);
        }
      }
      dst[(oy * p->out_w + ox) * dst_stride] = requant_s8(acc, mult, shift, p->out_zp, p->act_min, p->act_max);
    }
  }
}

/* Any kernel size, stride and dilation (fallback; depth multiplier 1). */
static void dw_channel_generic(const mcunet_conv_params* p, const int8_t* in, const int8_t* weights,
                               const int32_t* bias, int32_t c, int8_t* dst, int32_t dst_stride) {
  const int32_t C = p->in_c;
  const int32_t dh = p->dilation_h > 0 ? p->dilation_h : 1;
  const int32_t dw = p->dilation_w > 0 ? p->dilation_w : 1;
  const int32_t input_offset = -p->in_zp;
  int32_t oy, ox, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t ix0 = ox * p->stride_w - p->pad_left;
      int32_t acc = bias ? bias[c] : 0;
      for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t iy = iy0 + ky * dh;
        if (iy < 0 || iy >= p->in_h) continue;
        for (kx = 0; kx < p->kernel_w; ++kx) {
          const int32_t ix = ix0 + kx * dw;
          if (ix < 0 || ix >= p->in_w) continue;
          acc += (int32_t)weights[(ky * p->kernel_w + kx) * C + c] * (in[(iy * p->in_w + ix) * C] + input_offset);
        }
      }
      dst[(oy * p->out_w + ox) * dst_stride] =
          requant_s8(acc, p->multiplier[c], p->shift[c], p->out_zp, p->act_min, p->act_max);
    }
  }
}

typedef void (*dw_channel_fn)(const mcunet_conv_params* p, const int8_t* in, const int8_t* weights,
                              const int32_t* bias, int32_t c, int8_t* dst, int32_t dst_stride);

static void dw_out_of_place(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                            const int32_t* bias, int8_t* output, dw_channel_fn channel) {
  int32_t c;
  for (c = 0; c < p->in_c; ++c) channel(p, input + c, weights, bias, c, output + c, p->in_c);
}

static void dw_in_place(const mcunet_conv_params* p, int8_t* buffer, const int8_t* weights, const int32_t* bias,
                        int8_t* scratch, dw_channel_fn channel) {
  const int32_t n = p->out_h * p->out_w;
  const int32_t C = p->in_c;
  int32_t c, i;
  for (c = 0; c < C; ++c) {
    /* All reads of input channel c happen here ... */
    channel(p, buffer + c, weights, bias, c, scratch, 1);
    /* ... before its slots receive output channel c. */
    for (i = 0; i < n; ++i) buffer[i * C + c] = scratch[i];
  }
}

#define MCUNET_DEFINE_DW(K, S)                                                                                  \
  static void dw_channel_k##K##s##S(const mcunet_conv_params* p, const int8_t* in, const int8_t* weights,       \
                                    const int32_t* bias, int32_t c, int8_t* dst, int32_t dst_stride) {          \
    dw_channel_fixed(p, in, weights, bias, c, dst, dst_stride, K, K, S, S);                                     \
  }                                                                                                             \
  void mcunet_depthwise_conv_s8_k##K##s##S(const mcunet_conv_params* p, const int8_t* input,                    \
                                           const int8_t* weights, const int32_t* bias, int8_t* output) {        \
    dw_out_of_place(p, input, weights, bias, output, dw_channel_k##K##s##S);                                    \
  }                                                                                                             \
  void mcunet_depthwise_conv_s8_inplace_k##K##s##S(const mcunet_conv_params* p, int8_t* buffer,                 \
                                                   const int8_t* weights, const int32_t* bias, int8_t* scratch) { \
    dw_in_place(p, buffer, weights, bias, scratch, dw_channel_k##K##s##S);                                      \
  }

MCUNET_DEFINE_DW(3, 1)
MCUNET_DEFINE_DW(3, 2)
MCUNET_DEFINE_DW(5, 1)
MCUNET_DEFINE_DW(5, 2)
MCUNET_DEFINE_DW(7, 1)
MCUNET_DEFINE_DW(7, 2)

static dw_channel_fn dw_select(const mcunet_conv_params* p) {
  const int dilated = (p->dilation_h > 1) || (p->dilation_w > 1);
  if (dilated || p->kernel_h != p->kernel_w || p->stride_h != p->stride_w) return dw_channel_generic;
  if (p->kernel_h == 3 && p->stride_h == 1) return dw_channel_k3s1;
  if (p->kernel_h == 3 && p->stride_h == 2) return dw_channel_k3s2;
  if (p->kernel_h == 5 && p->stride_h == 1) return dw_channel_k5s1;
  if (p->kernel_h == 5 && p->stride_h == 2) return dw_channel_k5s2;
  if (p->kernel_h == 7 && p->stride_h == 1) return dw_channel_k7s1;
  if (p->kernel_h == 7 && p->stride_h == 2) return dw_channel_k7s2;
  return dw_channel_generic;
}

void mcunet_depthwise_conv_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                              const int32_t* bias, int8_t* output) {
  dw_out_of_place(p, input, weights, bias, output, dw_select(p));
}

void mcunet_depthwise_conv_s8_inplace(const mcunet_conv_params* p, int8_t* buffer, const int8_t* weights,
                                      const int32_t* bias, int8_t* scratch) {
  dw_in_place(p, buffer, weights, bias, scratch, dw_select(p));
}

/* ---- ADD (in place allowed) ----------------------------------------------- */

void mcunet_add_s8(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  const int32_t scale = (int32_t)1 << p->left_shift;
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t x1 = input1[i];
    const int32_t x2 = input2[i];
    const int32_t r1 = mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp((x1 - p->in1_zp) * scale,
                                                                                    p->in1_multiplier, p->in1_shift);
    const int32_t r2 = mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp((x2 - p->in2_zp) * scale,
                                                                                    p->in2_multiplier, p->in2_shift);
    const int32_t raw =
        mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp(r1 + r2, p->out_multiplier, p->out_shift) +
        p->out_zp;
    output[i] = (int8_t)mcunet_clamp_i32(raw, p->act_min, p->act_max);
  }
}

/* ---- MEAN over H, W ------------------------------------------------------- */

void mcunet_mean_s8(const mcunet_mean_params* p, const int8_t* input, int8_t* output) {
  const int32_t n = p->in_h * p->in_w;
  const int32_t C = p->c;
  const int32_t zp_sum = p->in_zp * n;
  int32_t c, i;
  if (n <= 0) return;
  for (c = 0; c < C; ++c) {
    const int8_t* src = input + c;
    int32_t sum = 0;
    for (i = 0; i < n; ++i) sum += src[i * C];
    if (p->divide_only) {
      output[c] = (int8_t)(sum / n);
    } else {
      const int32_t v = mcunet_multiply_by_quantized_multiplier(sum - zp_sum, p->multiplier, p->shift) + p->out_zp;
      output[c] = (int8_t)mcunet_clamp_i32(v, -128, 127);
    }
  }
}

/* ---- AVERAGE_POOL_2D: window clipped once per output pixel ---------------- */

int mcunet_avg_pool_s8(const mcunet_pool_params* p, const int8_t* input, int8_t* output) {
  const int32_t C = p->c;
  int32_t oy, ox, c, fy, fx;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t in_y0 = oy * p->stride_h - p->pad_top;
    const int32_t fy0 = in_y0 < 0 ? -in_y0 : 0;
    const int32_t fy1 = p->kernel_h < p->in_h - in_y0 ? p->kernel_h : p->in_h - in_y0;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t in_x0 = ox * p->stride_w - p->pad_left;
      const int32_t fx0 = in_x0 < 0 ? -in_x0 : 0;
      const int32_t fx1 = p->kernel_w < p->in_w - in_x0 ? p->kernel_w : p->in_w - in_x0;
      const int32_t count = (fy1 > fy0 && fx1 > fx0) ? (fy1 - fy0) * (fx1 - fx0) : 0;
      int8_t* out = output + (oy * p->out_w + ox) * C;
      if (count == 0) return -1;
      for (c = 0; c < C; ++c) {
        int32_t acc = 0;
        for (fy = fy0; fy < fy1; ++fy) {
          const int32_t row = (in_y0 + fy) * p->in_w + in_x0;
          for (fx = fx0; fx < fx1; ++fx) acc += input[(row + fx) * C + c];
        }
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        out[c] = (int8_t)mcunet_clamp_i32(acc, p->act_min, p->act_max);
      }
    }
  }
  return 0;
}

/* ---- FULLY_CONNECTED ------------------------------------------------------ */

void mcunet_fully_connected_s8(const mcunet_fc_params* p, const int8_t* input, const int8_t* weights,
                               const int32_t* bias, int8_t* output) {
  const int32_t n = p->in_features;
  const int32_t input_offset = -p->in_zp;
  int32_t o, i;
  for (o = 0; o < p->out_features; ++o) {
    const int8_t* w = weights + o * n;
    const int32_t k = p->per_channel ? o : 0;
    int32_t acc_wx = 0, acc_w = 0;
    for (i = 0; i < n; ++i) {
      acc_wx += w[i] * input[i];
      acc_w += w[i];
    }
    acc_wx += input_offset * acc_w;
    if (bias) acc_wx += bias[o];
    output[o] = requant_s8(acc_wx, p->multiplier[k], p->shift[k], p->out_zp, p->act_min, p->act_max);
  }
}
