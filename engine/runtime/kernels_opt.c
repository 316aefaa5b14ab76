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


/* ---- Armv7E-M DSP (SIMD) building blocks ----------------------------------
 * Used when the compiler targets a core with the DSP extension (Cortex-M4,
 * M7: __ARM_FEATURE_DSP) unless MCUNET_PORTABLE_KERNELS is defined; the host
 * build and MCUNET_PORTABLE_KERNELS use the portable C below. Bit-exact with
 * it: the same int32 sums in another order (int32 addition and SMLAD both
 * wrap modulo 2^32), and the same TFLite requantisation. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(MCUNET_PORTABLE_KERNELS)
#define MCUNET_USE_DSP 1
#include <arm_acle.h>

/* Unaligned 32-bit load (LDR allows it on Armv7-M). */
static MCUNET_ALWAYS_INLINE int32_t ld32(const int8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}
/* Bytes 1 and 3 of x sign-extended to two int16: SXTB16 x, ROR #8. */
static MCUNET_ALWAYS_INLINE int32_t sxtb16_ror8(int32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
/* a + bytes 1 and 3 of x, per int16 half: SXTAB16 a, x, ROR #8. */
static MCUNET_ALWAYS_INLINE int32_t sxtab16_ror8(int32_t a, int32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
/* int16 pair (v, v) for v in [-32768, 32767]. */
static MCUNET_ALWAYS_INLINE int32_t dup16(int32_t v) { return (int32_t)(((uint32_t)v & 0xFFFFu) * 0x10001u); }

/* TFLite MultiplyByQuantizedMultiplier (requantize.h) for multipliers
 * != INT32_MIN (QuantizeMultiplier yields [2^30, 2^31) or 0,
 * mcunet_kernels.h): SRDHM(x, M) = floor((x M + 2^30) / 2^31) as one 64-bit
 * multiply-accumulate; RoundingDivideByPOT with threshold (mask >> 1) + 1
 * for negative values. */
static MCUNET_ALWAYS_INLINE int32_t mbqm_dsp(int32_t acc, int32_t multiplier, int32_t shift) {
  const int32_t x = shift > 0 ? (int32_t)((uint32_t)acc << shift) : acc;
  int32_t h = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
  if (shift < 0 && shift >= -23) {
    /* RoundingDivideByPOT(h, e), 1 <= e <= 23, as (h + 2^(e-1) - [h < 0]) >> e
     * with a saturating add (QADD): it saturates only when the exact
     * quotient is >= 2^(31-e) - 1 >= 255, where both results clamp to the
     * same int8 (out_zp >= -128). */
    const int32_t e = -shift;
    const int32_t t = __qadd(h, (int32_t)1 << (e - 1)) + (h >> 31);
    return t >> e;
  }
  if (shift < 0) {
    const int32_t e = -shift;
    const int32_t mask = (int32_t)(((uint32_t)1 << e) - 1u);
    const int32_t threshold = (mask >> 1) - (h >> 31);
    h = (h >> e) + ((h & mask) > threshold);
  }
  return h;
}
static MCUNET_ALWAYS_INLINE int8_t requant_dsp(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_zp,
                                               int32_t act_min, int32_t act_max) {
  return (int8_t)mcunet_clamp_i32(mbqm_dsp(acc, multiplier, shift) + out_zp, act_min, act_max);
}
#endif

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

#if defined(MCUNET_USE_DSP)
/* Reorders each full group of four column values (c0 c1 c2 c3) to
 * (c0 c2 c1 c3), so that two 32-bit loads give the int16 pairs (c0, c2) and
 * (c1, c3) that match SXTB16 / SXTB16 ROR 8 of four int8 weights. */
static void im2col_pair_order(int16_t* col, int32_t depth) {
  int32_t k;
  for (k = 0; k + 4 <= depth; k += 4) {
    const int16_t t = col[k + 1];
    col[k + 1] = col[k + 2];
    col[k + 2] = t;
  }
}

static MCUNET_ALWAYS_INLINE int32_t ld32_16(const int16_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Output channel oc of pixels px (col0) and px+1 (col1, if two). */
static MCUNET_ALWAYS_INLINE void conv_dsp_oc(const mcunet_conv_params* p, const int8_t* w, const int32_t* bias,
                                             int32_t oc, int32_t depth, const int16_t* col0, const int16_t* col1,
                                             int8_t* out0, int8_t* out1, const int two) {
  int32_t acc0 = bias ? bias[oc] : 0;
  int32_t acc1 = acc0;
  int32_t k = 0;
  for (; k + 4 <= depth; k += 4) {
    const int32_t wv = ld32(w + k);
    const int32_t w02 = __sxtb16(wv), w13 = sxtb16_ror8(wv);
    acc0 = __smlad(w02, ld32_16(col0 + k), acc0);
    acc0 = __smlad(w13, ld32_16(col0 + k + 2), acc0);
    if (two) {
      acc1 = __smlad(w02, ld32_16(col1 + k), acc1);
      acc1 = __smlad(w13, ld32_16(col1 + k + 2), acc1);
    }
  }
  for (; k < depth; ++k) {
    acc0 += w[k] * col0[k];
    if (two) acc1 += w[k] * col1[k];
  }
  {
    const int8_t r0 = requant_dsp(acc0, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
    const int8_t r1 = two ? requant_dsp(acc1, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max) : 0;
    out0[oc] = r0;
    if (two) out1[oc] = r1;
  }
}

static void conv2d_dsp(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                       int8_t* output, int16_t* scratch) {
  const int32_t depth = p->kernel_h * p->kernel_w * p->in_c;
  const int32_t n = p->out_h * p->out_w;
  int16_t* col0 = scratch;
  int16_t* col1 = scratch + depth;
  int32_t px, oc;
  for (px = 0; px < n; px += 2) {
    const int two = px + 1 < n;
    int8_t* out0 = output + px * p->out_c;
    int8_t* out1 = out0 + p->out_c;
    im2col_pixel(p, input, px / p->out_w, px % p->out_w, col0);
    im2col_pair_order(col0, depth);
    if (two) {
      im2col_pixel(p, input, (px + 1) / p->out_w, (px + 1) % p->out_w, col1);
      im2col_pair_order(col1, depth);
      for (oc = 0; oc < p->out_c; ++oc) conv_dsp_oc(p, weights + oc * depth, bias, oc, depth, col0, col1, out0, out1, 1);
    } else {
      for (oc = 0; oc < p->out_c; ++oc) conv_dsp_oc(p, weights + oc * depth, bias, oc, depth, col0, col1, out0, out1, 0);
    }
  }
}
#endif

void mcunet_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                      int8_t* output, int16_t* scratch) {
#if defined(MCUNET_USE_DSP)
  conv2d_dsp(p, input, weights, bias, output, scratch);
}
#else
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
      out0[oc] = requant_s8(acc0, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
      out1[oc] = requant_s8(acc1, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
    }
  }
  if (px < n) {
    int8_t* out0 = output + px * p->out_c;
    im2col_pixel(p, input, px / p->out_w, px % p->out_w, col0);
    for (oc = 0; oc < p->out_c; ++oc) {
      const int8_t* w = weights + oc * depth;
      int32_t acc0 = bias ? bias[oc] : 0;
      for (k = 0; k < depth; ++k) acc0 += (int32_t)w[k] * col0[k];
      out0[oc] = requant_s8(acc0, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
    }
  }
}
#endif

/* ---- Pointwise (1x1) conv with the forward / reverse overlap orders -------- */

#if !defined(MCUNET_USE_DSP)
static void pointwise_portable(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
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
      out[oc] = requant_s8(acc_wx, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
    }
  }
}

#endif

#if defined(MCUNET_USE_DSP)
/* Output channels oc, oc+1 (oc+1 only if two) of one pixel (x0 -> out0) or of
 * two pixels (x0 -> out0, x1 -> out1; x1 may be NULL), four input channels
 * per step: weights loaded once per step for both pixels, inputs widened
 * with the zero-point offset by SXTAB16, SMLAD for two products at a time. */
static MCUNET_ALWAYS_INLINE void pw_dsp_block(const mcunet_conv_params* p, const int8_t* x0, const int8_t* x1,
                                              const int8_t* weights, const int32_t* bias, int8_t* out0, int8_t* out1,
                                              int32_t oc, const int two_oc, const int two_px) {
  const int32_t a = p->in_c;
  const int32_t off = -p->in_zp;
  const int32_t off2 = dup16(off);
  const int8_t* w0 = weights + oc * a;
  const int8_t* w1 = w0 + a;
  int32_t acc00 = bias ? bias[oc] : 0, acc01, acc10 = 0, acc11;
  int32_t ic = 0;
  if (two_oc && bias) acc10 = bias[oc + 1];
  acc01 = acc00;
  acc11 = acc10;
  {
    const int8_t* pa = x0;
    const int8_t* pb = x1;
    const int8_t* pw0 = w0;
    const int8_t* pw1 = w1;
    int32_t k = a >> 2;
    ic = a & ~3;
    if (two_px && two_oc && k > 0) {
      /* 2 output channels x 2 pixels x 4 input channels per iteration, 24
       * instructions for 16 MACs; 14 registers, so the offset pair and the
       * end pointer are reloaded from the stack. */
      const int8_t* const end = pa + 4 * k;
      int32_t t0, t1, t2, t3, t4, t5;
      __asm__ volatile(
          "1:\n\t"
          "ldr %[t5], %[off2m]\n\t"
          "ldr %[t0], [%[pa]], #4\n\t"
          "sxtab16 %[t1], %[t5], %[t0]\n\t"
          "sxtab16 %[t0], %[t5], %[t0], ror #8\n\t"
          "ldr %[t2], [%[pb]], #4\n\t"
          "sxtab16 %[t3], %[t5], %[t2]\n\t"
          "sxtab16 %[t2], %[t5], %[t2], ror #8\n\t"
          "ldr %[t4], [%[pw0]], #4\n\t"
          "sxtb16 %[t5], %[t4]\n\t"
          "sxtb16 %[t4], %[t4], ror #8\n\t"
          "smlad %[a00], %[t5], %[t1], %[a00]\n\t"
          "smlad %[a00], %[t4], %[t0], %[a00]\n\t"
          "smlad %[a01], %[t5], %[t3], %[a01]\n\t"
          "smlad %[a01], %[t4], %[t2], %[a01]\n\t"
          "ldr %[t4], [%[pw1]], #4\n\t"
          "sxtb16 %[t5], %[t4]\n\t"
          "sxtb16 %[t4], %[t4], ror #8\n\t"
          "smlad %[a10], %[t5], %[t1], %[a10]\n\t"
          "smlad %[a10], %[t4], %[t0], %[a10]\n\t"
          "smlad %[a11], %[t5], %[t3], %[a11]\n\t"
          "smlad %[a11], %[t4], %[t2], %[a11]\n\t"
          "ldr %[t5], %[endm]\n\t"
          "cmp %[pa], %[t5]\n\t"
          "bne 1b\n\t"
          : [a00] "+r"(acc00), [a01] "+r"(acc01), [a10] "+r"(acc10), [a11] "+r"(acc11), [pa] "+r"(pa),
            [pb] "+r"(pb), [pw0] "+r"(pw0), [pw1] "+r"(pw1), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),
            [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
          : [off2m] "m"(off2), [endm] "m"(end)
          : "cc", "memory");
      k = 0;
    }
    while (k-- > 0) {
      const int32_t xa = ld32(pa);
      const int32_t wa = ld32(pw0);
      const int32_t xa02 = __sxtab16(off2, xa), xa13 = sxtab16_ror8(off2, xa);
      const int32_t wa02 = __sxtb16(wa), wa13 = sxtb16_ror8(wa);
      pa += 4;
      pw0 += 4;
      acc00 = __smlad(wa02, xa02, acc00);
      acc00 = __smlad(wa13, xa13, acc00);
      if (two_px) {
        const int32_t xb = ld32(pb);
        const int32_t xb02 = __sxtab16(off2, xb), xb13 = sxtab16_ror8(off2, xb);
        pb += 4;
        acc01 = __smlad(wa02, xb02, acc01);
        acc01 = __smlad(wa13, xb13, acc01);
        if (two_oc) {
          const int32_t wb = ld32(pw1);
          const int32_t wb02 = __sxtb16(wb), wb13 = sxtb16_ror8(wb);
          pw1 += 4;
          acc10 = __smlad(wb02, xa02, acc10);
          acc10 = __smlad(wb13, xa13, acc10);
          acc11 = __smlad(wb02, xb02, acc11);
          acc11 = __smlad(wb13, xb13, acc11);
        }
      } else if (two_oc) {
        const int32_t wb = ld32(pw1);
        const int32_t wb02 = __sxtb16(wb), wb13 = sxtb16_ror8(wb);
        pw1 += 4;
        acc10 = __smlad(wb02, xa02, acc10);
        acc10 = __smlad(wb13, xa13, acc10);
      }
    }
  }
  for (; ic < a; ++ic) {
    const int32_t xa = x0[ic] + off;
    const int32_t xb = two_px ? x1[ic] + off : 0;
    acc00 += w0[ic] * xa;
    if (two_px) acc01 += w0[ic] * xb;
    if (two_oc) {
      acc10 += w1[ic] * xa;
      if (two_px) acc11 += w1[ic] * xb;
    }
  }
  {
    /* All loads before the byte stores (which may alias anything). */
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int32_t m0 = p->multiplier[oc], s0 = mcunet_conv_shift(p, oc);
    const int32_t m1 = two_oc ? p->multiplier[oc + 1] : 0, s1 = two_oc ? mcunet_conv_shift(p, oc + 1) : 0;
    const int8_t r00 = requant_dsp(acc00, m0, s0, zp, lo, hi);
    const int8_t r01 = two_px ? requant_dsp(acc01, m0, s0, zp, lo, hi) : 0;
    const int8_t r10 = two_oc ? requant_dsp(acc10, m1, s1, zp, lo, hi) : 0;
    const int8_t r11 = two_oc && two_px ? requant_dsp(acc11, m1, s1, zp, lo, hi) : 0;
    out0[oc] = r00;
    if (two_px) out1[oc] = r01;
    if (two_oc) {
      out0[oc + 1] = r10;
      if (two_px) out1[oc + 1] = r11;
    }
  }
}

static void pw_dsp_one(const mcunet_conv_params* p, const int8_t* x0, const int8_t* weights, const int32_t* bias,
                       int8_t* out0) {
  int32_t oc = 0;
  for (; oc + 2 <= p->out_c; oc += 2) pw_dsp_block(p, x0, NULL, weights, bias, out0, NULL, oc, 1, 0);
  if (oc < p->out_c) pw_dsp_block(p, x0, NULL, weights, bias, out0, NULL, oc, 0, 0);
}

static void pw_dsp_two(const mcunet_conv_params* p, const int8_t* x0, const int8_t* x1, const int8_t* weights,
                       const int32_t* bias, int8_t* out0, int8_t* out1) {
  int32_t oc = 0;
  if ((p->in_c & 3) == 0 && p->in_c > 0) {
    /* The common case, with the per-pair state in locals. */
    const int32_t a = p->in_c, b = p->out_c;
    const int32_t off2 = dup16(-p->in_zp);
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int32_t* const mult = p->multiplier;
    for (; oc + 2 <= b; oc += 2) {
      int32_t acc00 = bias ? bias[oc] : 0, acc10 = bias ? bias[oc + 1] : 0;
      int32_t acc01 = acc00, acc11 = acc10;
      const int8_t* pa = x0;
      const int8_t* pb = x1;
      const int8_t* pw0 = weights + oc * a;
      const int8_t* pw1 = pw0 + a;
      const int8_t* const end = x0 + a;
      int32_t t0, t1, t2, t3, t4, t5;
      __asm__ volatile(
          "1:\n\t"
          "ldr %[t5], %[off2m]\n\t"
          "ldr %[t0], [%[pa]], #4\n\t"
          "sxtab16 %[t1], %[t5], %[t0]\n\t"
          "sxtab16 %[t0], %[t5], %[t0], ror #8\n\t"
          "ldr %[t2], [%[pb]], #4\n\t"
          "sxtab16 %[t3], %[t5], %[t2]\n\t"
          "sxtab16 %[t2], %[t5], %[t2], ror #8\n\t"
          "ldr %[t4], [%[pw0]], #4\n\t"
          "sxtb16 %[t5], %[t4]\n\t"
          "sxtb16 %[t4], %[t4], ror #8\n\t"
          "smlad %[a00], %[t5], %[t1], %[a00]\n\t"
          "smlad %[a00], %[t4], %[t0], %[a00]\n\t"
          "smlad %[a01], %[t5], %[t3], %[a01]\n\t"
          "smlad %[a01], %[t4], %[t2], %[a01]\n\t"
          "ldr %[t4], [%[pw1]], #4\n\t"
          "sxtb16 %[t5], %[t4]\n\t"
          "sxtb16 %[t4], %[t4], ror #8\n\t"
          "smlad %[a10], %[t5], %[t1], %[a10]\n\t"
          "smlad %[a10], %[t4], %[t0], %[a10]\n\t"
          "smlad %[a11], %[t5], %[t3], %[a11]\n\t"
          "smlad %[a11], %[t4], %[t2], %[a11]\n\t"
          "ldr %[t5], %[endm]\n\t"
          "cmp %[pa], %[t5]\n\t"
          "bne 1b\n\t"
          : [a00] "+r"(acc00), [a01] "+r"(acc01), [a10] "+r"(acc10), [a11] "+r"(acc11), [pa] "+r"(pa),
            [pb] "+r"(pb), [pw0] "+r"(pw0), [pw1] "+r"(pw1), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),
            [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
          : [off2m] "m"(off2), [endm] "m"(end)
          : "cc", "memory");
      {
        const int32_t m0 = mult[oc], s0 = mcunet_conv_shift(p, oc), m1 = mult[oc + 1];
        const int32_t s1 = mcunet_conv_shift(p, oc + 1);
        const int8_t r00 = requant_dsp(acc00, m0, s0, zp, lo, hi);
        const int8_t r01 = requant_dsp(acc01, m0, s0, zp, lo, hi);
        const int8_t r10 = requant_dsp(acc10, m1, s1, zp, lo, hi);
        const int8_t r11 = requant_dsp(acc11, m1, s1, zp, lo, hi);
        out0[oc] = r00;
        out0[oc + 1] = r10;
        out1[oc] = r01;
        out1[oc + 1] = r11;
      }
    }
    if (oc < b) pw_dsp_block(p, x0, x1, weights, bias, out0, out1, oc, 0, 1);
    return;
  }
  for (; oc + 2 <= p->out_c; oc += 2) pw_dsp_block(p, x0, x1, weights, bias, out0, out1, oc, 1, 1);
  if (oc < p->out_c) pw_dsp_block(p, x0, x1, weights, bias, out0, out1, oc, 0, 1);
}

static int disjoint(const int8_t* x, int32_t nx, const int8_t* y, int32_t ny) {
  const uintptr_t a = (uintptr_t)x, b = (uintptr_t)y;
  return a + (uintptr_t)nx <= b || b + (uintptr_t)ny <= a;
}

/* Pixels in `order`, two at a time (X, then Y = the next one in order) with
 * each weight word read once for both. Under the overlap contract the
 * outputs of pixels before Y never touch input Y or later inputs, so X is
 * staged in scratch (unless no output touches it) and Y is read in place
 * when neither output X nor output Y overlaps input Y (checked per pair;
 * else X and Y go one at a time, each staged, as in the portable kernel). */
static void pointwise_dsp(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                          const int32_t* bias, int8_t* output, int8_t* scratch, int32_t order) {
  const int32_t n = p->in_h * p->in_w;
  const int32_t a = p->in_c;
  const int32_t b = p->out_c;
  const int32_t step = order == MCUNET_ORDER_REVERSE ? -1 : 1;
  int32_t i = 0;
  while (i < n) {
    const int32_t px = order == MCUNET_ORDER_REVERSE ? n - 1 - i : i;
    const int8_t* in_x = input + px * a;
    int8_t* out_x = output + px * b;
    if (i + 1 < n) {
      const int8_t* in_y = in_x + step * a;
      int8_t* out_y = out_x + step * b;
      if (disjoint(out_x, b, in_y, a) && disjoint(out_y, b, in_y, a)) {
        const int8_t* x0 = in_x;
        if (!disjoint(out_x, b, in_x, a) || !disjoint(out_y, b, in_x, a)) {
          memcpy(scratch, in_x, (size_t)a);
          x0 = scratch;
        }
        pw_dsp_two(p, x0, in_y, weights, bias, out_x, out_y);
        i += 2;
        continue;
      }
    }
    memcpy(scratch, in_x, (size_t)a);
    pw_dsp_one(p, scratch, weights, bias, out_x);
    i += 1;
  }
}
#endif

void mcunet_pointwise_conv_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                              const int32_t* bias, int8_t* output, int8_t* scratch, int32_t order) {
#if defined(MCUNET_USE_DSP)
  pointwise_dsp(p, input, weights, bias, output, scratch, order);
#else
  pointwise_portable(p, input, weights, bias, output, scratch, order);
#endif
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
  const int32_t shift = mcunet_conv_shift(p, c);
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
          requant_s8(acc, p->multiplier[c], mcunet_conv_shift(p, c), p->out_zp, p->act_min, p->act_max);
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

#if defined(MCUNET_USE_DSP)
/* In-place depthwise, stride 1, when the scratch holds a whole input plane
 * (in_h * in_w <= out_h * out_w, i.e. SAME padding): channel c is gathered
 * into scratch, then its outputs are computed from the contiguous plane and
 * stored straight into its slots (bytes (y*out_w + x)*C + c, read no more).
 * Two horizontally adjacent outputs at a time: per kernel row, one or two
 * unaligned words give inputs i0..i7, widened with the offset by SXTAB16
 * into E = (i0, i2), O = (i1, i3), E' = (i4, i6), O' = (i5, i7), and
 *   out[x]   = (w0,w2).E + (w1,w3).O + (w4,w6).E' + w5 i5
 *   out[x+1] = (w0,w2).O + (w4,w6).O' + w1 i2 + w3 i4 + w5 i6
 * (SMLAD for pairs, SMLABB/SMLABT for single products; w_j = 0 for j >= K).
 * Windows clipped by the left/right border use the scalar loop. */
static MCUNET_ALWAYS_INLINE int32_t pack16(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

static MCUNET_ALWAYS_INLINE void dw_inplace_s1_plane(const mcunet_conv_params* p, int8_t* buffer,
                                                     const int8_t* weights, const int32_t* bias, int8_t* plane,
                                                     const int32_t K) {
  const int32_t C = p->in_c, H = p->in_h, W = p->in_w, OH = p->out_h, OW = p->out_w;
  const int32_t pt = p->pad_top, pl = p->pad_left;
  const int32_t off = -p->in_zp, off2 = dup16(-p->in_zp);
  const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
  const int32_t nbytes = K == 3 ? 4 : 8;
  const int32_t plane_n = H * W;
  int32_t c, i, oy, ox, ky, kx;
  for (c = 0; c < C; ++c) {
    int8_t wk[49];
    int32_t wE[7], wO[7], wE1[7], w1[7], w3[7], w4[7], w5[7];
    const int32_t mult = p->multiplier[c], shift = mcunet_conv_shift(p, c);
    const int32_t b = bias ? bias[c] : 0;
    for (i = 0; i < plane_n; ++i) plane[i] = buffer[i * C + c];
    for (ky = 0; ky < K; ++ky) {
      for (kx = 0; kx < K; ++kx) wk[ky * K + kx] = weights[(ky * K + kx) * C + c];
    }
    for (ky = 0; ky < K; ++ky) {
      const int8_t* r = wk + ky * K;
      const int32_t r3 = K > 3 ? r[3] : 0, r4 = K > 4 ? r[4] : 0, r5 = K > 5 ? r[5] : 0, r6 = K > 6 ? r[6] : 0;
      wE[ky] = pack16(r[0], r[2]);
      wO[ky] = pack16(r[1], r3);
      wE1[ky] = pack16(r4, r6);
      w1[ky] = r[1];
      w3[ky] = r3;
      w4[ky] = r4;
      w5[ky] = r5;
    }
    for (oy = 0; oy < OH; ++oy) {
      const int32_t iy0 = oy - pt;
      const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
      const int32_t ky1 = H - iy0 < K ? H - iy0 : K;
      const int32_t last_row_end = (iy0 + ky1 - 1) * W; /* start of the last input row read */
      int8_t* out = buffer + (oy * OW) * C + c;
      ox = 0;
      while (ox < OW) {
        const int32_t ix0 = ox - pl;
        if (ox + 1 < OW && ix0 >= 0 && ix0 + K + 1 <= W && last_row_end + ix0 + nbytes <= plane_n) {
          int32_t acc0 = b, acc1 = b;
          for (ky = ky0; ky < ky1; ++ky) {
            const int8_t* row = plane + (iy0 + ky) * W + ix0;
            const int32_t v0 = ld32(row);
            const int32_t E = __sxtab16(off2, v0), O = sxtab16_ror8(off2, v0);
            acc0 = __smlad(E, wE[ky], acc0);
            acc1 = __smlad(O, wE[ky], acc1);
            acc1 = __smlabt(w1[ky], E, acc1);
            if (K == 3) {
              acc0 = __smlabb(w1[ky], O, acc0);
            } else {
              const int32_t v1 = ld32(row + 4);
              const int32_t E1 = __sxtab16(off2, v1), O1 = sxtab16_ror8(off2, v1);
              acc0 = __smlad(O, wO[ky], acc0);
              acc1 = __smlabb(w3[ky], E1, acc1);
              if (K == 5) {
                acc0 = __smlabb(w4[ky], E1, acc0);
                acc1 = __smlabb(w4[ky], O1, acc1);
              } else {
                acc0 = __smlad(E1, wE1[ky], acc0);
                acc0 = __smlabb(w5[ky], O1, acc0);
                acc1 = __smlad(O1, wE1[ky], acc1);
                acc1 = __smlabt(w5[ky], E1, acc1);
              }
            }
          }
          {
            const int8_t r0 = requant_dsp(acc0, mult, shift, zp, lo, hi);
            const int8_t r1 = requant_dsp(acc1, mult, shift, zp, lo, hi);
            out[ox * C] = r0;
            out[(ox + 1) * C] = r1;
          }
          ox += 2;
        } else {
          const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
          const int32_t kx1 = W - ix0 < K ? W - ix0 : K;
          int32_t acc = b;
          for (ky = ky0; ky < ky1; ++ky) {
            const int8_t* row = plane + (iy0 + ky) * W + ix0;
            for (kx = kx0; kx < kx1; ++kx) acc += wk[ky * K + kx] * (row[kx] + off);
          }
          out[ox * C] = requant_dsp(acc, mult, shift, zp, lo, hi);
          ox += 1;
        }
      }
    }
  }
}
#endif

#if defined(MCUNET_USE_DSP)
#define DW_PLANE_OK(p, S) \
  ((S) == 1 && (p)->stride_h == 1 && (p)->stride_w == 1 && (p)->in_h * (p)->in_w <= (p)->out_h * (p)->out_w)
#define DW_PLANE(p, buffer, weights, bias, scratch, K) dw_inplace_s1_plane(p, buffer, weights, bias, scratch, K)
#else
#define DW_PLANE_OK(p, S) 0
#define DW_PLANE(p, buffer, weights, bias, scratch, K) ((void)0)
#endif
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
    if (DW_PLANE_OK(p, S)) {                                                                                    \
      DW_PLANE(p, buffer, weights, bias, scratch, K);                                                           \
      return;                                                                                                   \
    }                                                                                                           \
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

#if defined(MCUNET_USE_DSP)
/* Multipliers from QuantizeMultiplierSmallerThanOneExp are in [2^30, 2^31)
 * or 0 and the shifts <= 0; the values are below 2^29 in magnitude
 * ((x - zp) 2^20 with |x - zp| <= 255, then sums of two results), so
 * mbqm_dsp's saturating add never saturates: the same function. */
#define ADD_MBQM(x, m, s) mbqm_dsp((x), (m), (s))
#else
#define ADD_MBQM(x, m, s) mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp((x), (m), (s))
#endif
void mcunet_add_s8(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  /* Parameters in locals: the int8 stores may alias *p. */
  const int32_t scale = (int32_t)1 << p->left_shift;
  const int32_t zp1 = p->in1_zp, m1 = p->in1_multiplier, s1 = p->in1_shift;
  const int32_t zp2 = p->in2_zp, m2 = p->in2_multiplier, s2 = p->in2_shift;
  const int32_t mo = p->out_multiplier, so = p->out_shift, zpo = p->out_zp;
  const int32_t lo = p->act_min, hi = p->act_max, n = p->size;
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t x1 = input1[i];
    const int32_t x2 = input2[i];
    const int32_t r1 = ADD_MBQM((x1 - zp1) * scale, m1, s1);
    const int32_t r2 = ADD_MBQM((x2 - zp2) * scale, m2, s2);
    const int32_t raw = ADD_MBQM(r1 + r2, mo, so) + zpo;
    output[i] = (int8_t)mcunet_clamp_i32(raw, lo, hi);
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
