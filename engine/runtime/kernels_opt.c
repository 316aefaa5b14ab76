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
 *     write output pixel p (out_c bytes) from scratch. The DSP kernel stages
 *     pixels p and p+1 (in order) together, widened to int16, before writing
 *     either output (output p never touches input p+1). Scratch: 4 * in_c
 *     bytes, 4-byte aligned.
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
#include <stddef.h>
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

/* requant_dsp out of line: the general path of kernels whose common case is
 * rq_fast (less code). */
static __attribute__((noinline)) int8_t requant_slow(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_zp,
                                                     int32_t act_min, int32_t act_max) {
  return requant_dsp(acc, multiplier, shift, out_zp, act_min, act_max);
}

/* Whether the layer can use rq_fast: full int8 activation range, int8
 * shifts in [-31, -1], and |acc| < 2^30 for every output
 * (|bias| + depth * 128 * 255 bounds it, depth = products per output),
 * so 2 * acc fits in int32. */
static int pw_fast_ok(const mcunet_conv_params* p, const int32_t* bias, int32_t depth) {
  int64_t maxb = 0;
  int32_t oc;
  if (p->act_min != -128 || p->act_max != 127 || !p->shift8) return 0;
  for (oc = 0; oc < p->out_c; ++oc) {
    const int32_t sh = p->shift8[oc];
    const int64_t bv = bias ? (int64_t)bias[oc] : 0;
    const int64_t ab = bv < 0 ? -bv : bv;
    if (sh < -31 || sh > -1) return 0;
    if (ab > maxb) maxb = ab;
  }
  return maxb + (int64_t)depth * 128 * 255 < ((int64_t)1 << 30);
}

/* requant_dsp for a pw_fast_ok layer: SRDHM(acc, M) = floor((acc M + 2^30) / 2^31)
 * = floor((2 acc M + 2^31) / 2^32) = SMMULR(2 acc, M) exactly (|2 acc| < 2^31),
 * then mbqm_dsp's rounding divide by 2^e (rnd = 2^(e-1)), + out_zp, and the
 * clamp to [-128, 127] as SSAT. |h| <= |acc| < 2^30 (M < 2^31), so
 * h + rnd < 2^31 never saturates, for every e in [1, 31]. */
static MCUNET_ALWAYS_INLINE int32_t rq_fast(int32_t acc, int32_t m, int32_t e, int32_t rnd, int32_t zp) {
  int32_t h;
  __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"((int32_t)((uint32_t)acc << 1)), "r"(m));
  return __ssat(((__qadd(h, rnd) + (h >> 31)) >> e) + zp, 8);
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
  if (dh == 1 && dw == 1 && in_y0 >= 0 && in_x0 >= 0 && in_y0 + p->kernel_h <= p->in_h &&
      in_x0 + p->kernel_w <= p->in_w) {
    /* Window inside the input: each kernel row is kernel_w * in_c
     * contiguous bytes. */
    const int32_t row_len = p->kernel_w * cin;
    const int32_t zp = p->in_zp;
    const int8_t* src = input + (in_y0 * p->in_w + in_x0) * cin;
    for (ky = 0; ky < p->kernel_h; ++ky) {
      for (ic = 0; ic < row_len; ++ic) col[ic] = (int16_t)(src[ic] - zp);
      col += row_len;
      src += p->in_w * cin;
    }
    return;
  }
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
                                             int8_t* out0, int8_t* out1, const int two, const int fast) {
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
  if (fast) {
    const int32_t m = p->multiplier[oc], e = -p->shift8[oc], rnd = (int32_t)1 << (e - 1), zp = p->out_zp;
    const int8_t r0 = (int8_t)rq_fast(acc0, m, e, rnd, zp);
    const int8_t r1 = two ? (int8_t)rq_fast(acc1, m, e, rnd, zp) : 0;
    out0[oc] = r0;
    if (two) out1[oc] = r1;
  } else {
    const int8_t r0 = requant_dsp(acc0, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
    const int8_t r1 = two ? requant_dsp(acc1, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max) : 0;
    out0[oc] = r0;
    if (two) out1[oc] = r1;
  }
}

/* Output channels oc, oc+1 of pixels px, px+1 for a pw_fast_ok layer: each
 * column word loaded once for both channels, each weight word once for both
 * pixels. */
static MCUNET_ALWAYS_INLINE void conv_dsp_oc2(const mcunet_conv_params* p, const int8_t* wa, const int32_t* bias,
                                              int32_t oc, int32_t depth, const int16_t* col0, const int16_t* col1,
                                              int8_t* out0, int8_t* out1) {
  const int8_t* wb = wa + depth;
  int32_t a00 = bias ? bias[oc] : 0, a10 = bias ? bias[oc + 1] : 0;
  int32_t a01 = a00, a11 = a10;
  int32_t k = 0;
  for (; k + 4 <= depth; k += 4) {
    const int32_t va = ld32(wa + k), vb = ld32(wb + k);
    const int32_t c0 = ld32_16(col0 + k), c0b = ld32_16(col0 + k + 2);
    const int32_t c1 = ld32_16(col1 + k), c1b = ld32_16(col1 + k + 2);
    const int32_t wa02 = __sxtb16(va), wa13 = sxtb16_ror8(va);
    const int32_t wb02 = __sxtb16(vb), wb13 = sxtb16_ror8(vb);
    a00 = __smlad(wa02, c0, a00);
    a00 = __smlad(wa13, c0b, a00);
    a01 = __smlad(wa02, c1, a01);
    a01 = __smlad(wa13, c1b, a01);
    a10 = __smlad(wb02, c0, a10);
    a10 = __smlad(wb13, c0b, a10);
    a11 = __smlad(wb02, c1, a11);
    a11 = __smlad(wb13, c1b, a11);
  }
  for (; k < depth; ++k) {
    a00 += wa[k] * col0[k];
    a01 += wa[k] * col1[k];
    a10 += wb[k] * col0[k];
    a11 += wb[k] * col1[k];
  }
  {
    const int32_t zp = p->out_zp;
    const int32_t m0 = p->multiplier[oc], e0 = -p->shift8[oc], rnd0 = (int32_t)1 << (e0 - 1);
    const int32_t m1 = p->multiplier[oc + 1], e1 = -p->shift8[oc + 1], rnd1 = (int32_t)1 << (e1 - 1);
    const int8_t r00 = (int8_t)rq_fast(a00, m0, e0, rnd0, zp), r01 = (int8_t)rq_fast(a01, m0, e0, rnd0, zp);
    const int8_t r10 = (int8_t)rq_fast(a10, m1, e1, rnd1, zp), r11 = (int8_t)rq_fast(a11, m1, e1, rnd1, zp);
    out0[oc] = r00;
    out0[oc + 1] = r10;
    out1[oc] = r01;
    out1[oc + 1] = r11;
  }
}

static void conv2d_dsp(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                       int8_t* output, int16_t* scratch) {
  const int32_t depth = p->kernel_h * p->kernel_w * p->in_c;
  const int32_t n = p->out_h * p->out_w;
  int16_t* col0 = scratch;
  int16_t* col1 = scratch + depth;
  const int fast = pw_fast_ok(p, bias, depth);
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
      oc = 0;
      if (fast) {
        for (; oc + 2 <= p->out_c; oc += 2) conv_dsp_oc2(p, weights + oc * depth, bias, oc, depth, col0, col1, out0, out1);
      }
      for (; oc < p->out_c; ++oc) conv_dsp_oc(p, weights + oc * depth, bias, oc, depth, col0, col1, out0, out1, 1, fast);
    } else {
      for (oc = 0; oc < p->out_c; ++oc) conv_dsp_oc(p, weights + oc * depth, bias, oc, depth, col0, col1, out0, out1, 0, fast);
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

static void pointwise_portable(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                               const int32_t* bias, int8_t* output, int8_t* scratch, int32_t order) {
  const int32_t n = p->in_h * p->in_w;
  const int32_t a = p->in_c;
  const int32_t b = p->out_c;
  const int32_t input_offset = -p->in_zp;
  /* Parameters in locals: the int8 stores may alias *p. */
  const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
  const int32_t* const mult = p->multiplier;
  const int32_t* const shift = p->shift;
  const int8_t* const shift8 = p->shift8;
  int32_t i, oc, ic;
  for (i = 0; i < n; ++i) {
    const int32_t px = order == MCUNET_ORDER_REVERSE ? n - 1 - i : i;
    int8_t* out = output + px * b;
    /* Stage input pixel px: from here on its bytes in the arena may be
     * overwritten by output pixel px. */
    memcpy(scratch, input + px * a, (size_t)a);
    for (oc = 0; oc < b; ++oc) {
      /* sum_ic w (x - zp) = sum_ic w x - zp sum_ic w: int8 x int8 products,
       * which vectorise well on the host (and map to SMLAD on Cortex-M).
       * The generated code folds the zero point into the bias (in_zp 0). */
      const int8_t* w = weights + oc * a;
      int32_t acc_wx = 0, acc_w = 0;
      if (input_offset == 0) {
        for (ic = 0; ic < a; ++ic) acc_wx += w[ic] * scratch[ic];
      } else {
        for (ic = 0; ic < a; ++ic) {
          acc_wx += w[ic] * scratch[ic];
          acc_w += w[ic];
        }
      }
      acc_wx += input_offset * acc_w;
      if (bias) acc_wx += bias[oc];
      out[oc] = requant_s8(acc_wx, mult[oc], shift8 ? (int32_t)shift8[oc] : shift[oc], zp, lo, hi);
    }
  }
}

#if defined(MCUNET_USE_DSP)
/* Pixels are taken two at a time, X and Y (the next in order; a last single
 * pixel goes as X = Y, its output bytes written twice with the same value).
 * Both are staged in scratch before either output is written, widened to
 * int16 with the input offset applied (SXTAB16): per 4 input channels the
 * words [x0 x2] [x1 x3] of X, then the same of Y (4 * in_c bytes). Under the
 * overlap contract output X never touches input Y, so staging both first is
 * safe. Then per pair of output channels a 2x2 tile: per 4 input channels
 * one LDM of the 4 widened words, per weight row one LDR + 2 SXTB16, and 8
 * SMLAD (15 instructions for 16 MACs).
 *
 * mcunet_pointwise_w16 (hand-written Thumb-2; every register is needed by
 * the tile) widens X and Y, then, for out0_end > out0, runs the pairs of a
 * pw_fast_ok layer with a bias: requantisation of rq_fast, rewritten as
 * ssat(((h - [h < 0]) >> (e - 1)) + 2 zp + 1, asr 1) (the rounding
 * (y + 2^(e-1)) >> e = ((y >> (e-1)) + 1) >> 1, no add that can overflow).
 * The inner loop runs 4 steps per iteration, entered at the step that leaves
 * a multiple of 4 (in_c / 4 mod 4). The context is copied to the frame. */
typedef struct pw_w16_ctx {
  const int8_t* x0;       /* 0: pixel X's input (in_c bytes) */
  const int8_t* x1;       /* 4: pixel Y's input */
  int32_t off2;           /* 8: -in_zp in both halfwords */
  int32_t* xw;            /* 12: the widened pixels, 4 * in_c bytes, 4-aligned */
  int32_t a;              /* 16: in_c, a multiple of 4, > 0 */
  const int8_t* w;        /* 20: weights of the first pair [2][in_c] */
  const int32_t* bias;    /* 24 */
  const int32_t* mult;    /* 28 */
  const int8_t* sh8;      /* 32: shifts in [-31, -1] */
  int8_t* out0;           /* 36 */
  int8_t* out1;           /* 40 */
  const int8_t* out0_end; /* 44: out0 + 2 * npairs (npairs may be 0) */
  int32_t zp2p1;          /* 48: 2 * out_zp + 1 */
} pw_w16_ctx;
/* The offsets the Thumb-2 below reads. */
_Static_assert(offsetof(pw_w16_ctx, xw) == 12 && offsetof(pw_w16_ctx, a) == 16 && offsetof(pw_w16_ctx, w) == 20 &&
                   offsetof(pw_w16_ctx, bias) == 24 && offsetof(pw_w16_ctx, out0_end) == 44 &&
                   offsetof(pw_w16_ctx, zp2p1) == 48,
               "pw_w16_ctx layout");
void mcunet_pointwise_w16(const pw_w16_ctx* c);
/* Frame: 0 xw, 4 a, 8 xw_end, 12 loop entry (Thumb bit set), 16 bias,
 * 20 mult, 24 sh8, 28 out0, 32 out1, 36 out0_end, 40 zp2p1. */
#define PW_W16_STEP                \
  "ldm r4!, {r7-r10}\n\t"          \
  "ldr r11, [r5], #4\n\t"          \
  "sxtb16 r12, r11\n\t"            \
  "sxtb16 r11, r11, ror #8\n\t"    \
  "smlad r0, r12, r7, r0\n\t"      \
  "smlad r0, r11, r8, r0\n\t"      \
  "smlad r1, r12, r9, r1\n\t"      \
  "smlad r1, r11, r10, r1\n\t"     \
  "ldr r11, [r6], #4\n\t"          \
  "sxtb16 r12, r11\n\t"            \
  "sxtb16 r11, r11, ror #8\n\t"    \
  "smlad r2, r12, r7, r2\n\t"      \
  "smlad r2, r11, r8, r2\n\t"      \
  "smlad r3, r12, r9, r3\n\t"      \
  "smlad r3, r11, r10, r3\n\t"
#define PW_W16_RQ(acc, m, e1)             \
  "lsl " acc ", " acc ", #1\n\t"          \
  "smmulr " acc ", " acc ", " m "\n\t"    \
  "add " acc ", " acc ", " acc ", asr #31\n\t" \
  "asr " acc ", " acc ", " e1 "\n\t"      \
  "add " acc ", " acc ", lr\n\t"          \
  "ssat " acc ", #8, " acc ", asr #1\n\t"
__asm__(
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".text\n\t"
    ".align 2\n\t"
    ".global mcunet_pointwise_w16\n\t"
    ".hidden mcunet_pointwise_w16\n\t"
    ".type mcunet_pointwise_w16, %function\n\t"
    ".thumb_func\n"
    "mcunet_pointwise_w16:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #44\n\t"
    "ldm r0, {r1-r5}\n\t"          /* x0, x1, off2, xw, a */
    "mov r6, r4\n\t"
    "add r7, r1, r5\n"
    "4:\n\t"                       /* widen X and Y, 4 channels a step */
    "ldr r8, [r1], #4\n\t"
    "ldr r9, [r2], #4\n\t"
    "sxtab16 r10, r3, r8\n\t"
    "sxtab16 r11, r3, r8, ror #8\n\t"
    "sxtab16 r12, r3, r9\n\t"
    "sxtab16 lr, r3, r9, ror #8\n\t"
    "stm r6!, {r10-r12, lr}\n\t"
    "cmp r1, r7\n\t"
    "bne 4b\n\t"
    "strd r4, r5, [sp]\n\t"
    "str r6, [sp, #8]\n\t"
    /* entry = step 1 + ((4 - (a/4 mod 4)) mod 4) steps */
    "ubfx r7, r5, #2, #2\n\t"
    "rsb r7, r7, #4\n\t"
    "and r7, r7, #3\n\t"
    "adr r8, 10f\n\t"
    "movs r9, #60\n\t"
    "mla r8, r7, r9, r8\n\t"
    "orr r8, r8, #1\n\t"
    "str r8, [sp, #12]\n\t"
    "ldr r5, [r0, #20]\n\t"        /* pw0 = w */
    "add lr, r0, #24\n\t"
    "ldm lr, {r1-r4, r6-r8}\n\t"   /* bias, mult, sh8, out0, out1, out0_end, zp2p1 */
    "add lr, sp, #16\n\t"
    "stm lr, {r1-r4, r6-r8}\n\t"
    "cmp r4, r7\n\t"
    "beq 9f\n"
    "3:\n\t"                       /* per pair of output channels */
    "ldr lr, [sp, #16]\n\t"
    "ldrd r0, r2, [lr], #8\n\t"   /* acc00 = bias[0], acc10 = bias[1] */
    "str lr, [sp, #16]\n\t"
    "mov r1, r0\n\t"
    "mov r3, r2\n\t"
    "ldrd r4, lr, [sp]\n\t"       /* px = xw, lr = a */
    "add r6, r5, lr\n\t"          /* pw1 = pw0 + a */
    "ldr pc, [sp, #12]\n"
    "10:\n\t" PW_W16_STEP
    "11:\n\t" PW_W16_STEP
    "12:\n\t" PW_W16_STEP
    "13:\n\t" PW_W16_STEP
    "14:\n\t"
    ".if (11b - 10b) != 60 || (12b - 11b) != 60 || (13b - 12b) != 60 || (14b - 13b) != 60\n\t"
    ".error \"mcunet_pointwise_w16: a step is not 60 bytes\"\n\t"
    ".endif\n\t"
    "ldr lr, [sp, #8]\n\t"
    "cmp r4, lr\n\t"
    "bne 10b\n\t"
    "mov r5, r6\n\t"              /* the next pair's rows */
    "ldrd r6, r7, [sp, #20]\n\t"  /* mult, sh8 */
    "ldrd r8, r9, [r6], #8\n\t"   /* m0, m1 */
    "ldrsb r10, [r7], #1\n\t"
    "ldrsb r11, [r7], #1\n\t"
    "strd r6, r7, [sp, #20]\n\t"
    "mvn r10, r10\n\t"            /* e0 - 1 = -shift0 - 1 */
    "mvn r11, r11\n\t"
    "ldr lr, [sp, #40]\n\t"       /* 2 zp + 1 */
    PW_W16_RQ("r0", "r8", "r10") PW_W16_RQ("r1", "r8", "r10")
    PW_W16_RQ("r2", "r9", "r11") PW_W16_RQ("r3", "r9", "r11")
    "ldrd r6, r7, [sp, #28]\n\t"  /* out0, out1 */
    "strb r0, [r6], #1\n\t"
    "strb r2, [r6], #1\n\t"
    "strb r1, [r7], #1\n\t"
    "strb r3, [r7], #1\n\t"
    "strd r6, r7, [sp, #28]\n\t"
    "ldr lr, [sp, #36]\n\t"
    "cmp r6, lr\n\t"
    "bne 3b\n"
    "9:\n\t"
    "add sp, sp, #44\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size mcunet_pointwise_w16, .-mcunet_pointwise_w16\n\t");
#undef PW_W16_RQ
#undef PW_W16_STEP

/* One output channel oc for both widened pixels (odd out_c, and every
 * channel of a layer that is not pw_fast_ok). */
static void pw_w16_channel(const mcunet_conv_params* p, const int32_t* xw, const int8_t* weights,
                           const int32_t* bias, int32_t oc, int8_t* out0, int8_t* out1) {
  const int32_t a = p->in_c;
  const int8_t* w = weights + oc * a;
  int32_t acc0 = bias ? bias[oc] : 0, acc1, k;
  acc1 = acc0;
  for (k = 0; k < a; k += 4, xw += 4) {
    const int32_t wv = ld32(w + k);
    const int32_t w02 = __sxtb16(wv), w13 = sxtb16_ror8(wv);
    acc0 = __smlad(w02, xw[0], acc0);
    acc0 = __smlad(w13, xw[1], acc0);
    acc1 = __smlad(w02, xw[2], acc1);
    acc1 = __smlad(w13, xw[3], acc1);
  }
  {
    /* All loads before the byte stores (which may alias *p). */
    const int32_t m = p->multiplier[oc], s = mcunet_conv_shift(p, oc);
    const int8_t r0 = requant_slow(acc0, m, s, p->out_zp, p->act_min, p->act_max);
    const int8_t r1 = requant_slow(acc1, m, s, p->out_zp, p->act_min, p->act_max);
    out0[oc] = r0;
    out1[oc] = r1;
  }
}

static void pointwise_dsp(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                          const int32_t* bias, int8_t* output, int8_t* scratch, int32_t order) {
  const int32_t n = p->in_h * p->in_w;
  const int32_t a = p->in_c;
  const int32_t b = p->out_c;
  const int32_t step = order == MCUNET_ORDER_REVERSE ? -1 : 1;
  const int32_t npairs = bias && b >= 2 && pw_fast_ok(p, bias, a) ? b >> 1 : 0;
  pw_w16_ctx c;
  int32_t i;
  if ((a & 3) != 0 || a == 0) {
    pointwise_portable(p, input, weights, bias, output, scratch, order);
    return;
  }
  c.off2 = dup16(-p->in_zp);
  c.xw = (int32_t*)(void*)scratch;
  c.a = a;
  c.w = weights;
  c.bias = bias;
  c.mult = p->multiplier;
  c.sh8 = p->shift8;
  c.zp2p1 = 2 * p->out_zp + 1;
  for (i = 0; i < n; i += 2) {
    const int32_t px = order == MCUNET_ORDER_REVERSE ? n - 1 - i : i;
    int32_t oc;
    c.x0 = input + px * a;
    c.out0 = output + px * b;
    c.x1 = c.x0;
    c.out1 = c.out0;
    if (i + 1 < n) {
      c.x1 += step * a;
      c.out1 += step * b;
    }
    c.out0_end = c.out0 + 2 * npairs;
    mcunet_pointwise_w16(&c);
    for (oc = 2 * npairs; oc < b; ++oc) pw_w16_channel(p, c.xw, weights, bias, oc, c.out0, c.out1);
  }
}
#endif

size_t mcunet_pointwise_scratch_bytes(const mcunet_conv_params* p) { return (size_t)4 * (size_t)p->in_c; }

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
/* Depthwise k x k (3, 5, 7), stride 1 or 2, dilation 1, in place or out of
 * place, per channel c from a ring of padded input rows on the stack:
 *   - the ring holds the K input rows of channel c that one output row reads,
 *     padded to rw bytes with in_zp (so x - in_zp = 0 outside the input: no
 *     bounds checks at all), each row stored twice (slots s and s + K) so the
 *     K rows of output row oy are contiguous at ring + (oy*S mod K) * rw;
 *   - each input row of channel c is gathered once (stride C reads);
 *   - outputs are requantised and stored straight into channel c's slots.
 * In place that is safe when every slot written by output row oy belongs to
 * an input row gathered already (checked for the layer up front; else the
 * caller takes the per-channel path through the scratch): slot j = y*OW + x
 * is byte j*C + c, input pixel j, row j / W.
 * The products use the raw inputs (SXTB16) and the accumulator starts at
 * bias - in_zp * sum(w): the same int32 sum as sum w (x - in_zp), and a pad
 * byte (= in_zp) adds w in_zp - w in_zp = 0 to it.
 * Stride 1: two outputs per step, one or two unaligned words per kernel row
 * give inputs i0..i7, widened by SXTB16 into
 * E = (i0, i2), O = (i1, i3), E' = (i4, i6), O' = (i5, i7), and
 *   out[x]   = (w0,w2).E + (w1,w3).O + (w4,w6).E' + w5 i5
 *   out[x+1] = (w0,w2).O + (w4,w6).O' + w1 i2 + w3 i4 + w5 i6
 * Stride 2: out = (w0,w2).E + (w1,w3).O + (w4,w6).E' + w5 i5, one output per
 * step for K = 5, two for K = 3 and 7 (Thumb-2), the second by PKHBT +
 * SMLADX (w_j = 0 for j >= K; SMLAD for pairs, SMLABB/SMLABT for single
 * products). Full-range layers run everything but 5x5 stride 2 through the
 * hand-written row kernels below; only 5x5 stride 2 keeps a C loop (any
 * other layer that is not full-range, or one output wide, returns 0 and
 * takes the per-channel kernel).
 * Reads run at most 8 bytes past the last tap: rw has 8 bytes of slack.
 * Stack: the ring, dw_ring_bytes = 2 * K * max(rw, DW_RW_MAX(K)) bytes (a
 * variable-length array: the vww1-sized minimum keeps small maps in plane
 * mode, the wider rows of ImageNet-sized maps get a wider ring), at most
 * DW_RING_MAX. Returns 0
 * (nothing done) when the ring would exceed DW_RING_MAX or the in-place order
 * is not safe. */
#define DW_RQ(acc) \
  (fast ? (int8_t)rq_fast((acc), mult, e, rnd, zp) : requant_slow((acc), mult, shift, zp, lo, hi))
#define DW_RW_MAX(K) ((K) == 3 ? 56 : ((K) == 5 ? 40 : 36))
#define DW_RING_MAX 2048
/* Bytes of a padded ring row: the widest of the padded input and the taps of
 * the last output, plus 8 bytes of slack, rounded to a word. */
static int32_t dw_ring_row_bytes(const mcunet_conv_params* p, const int32_t K, const int32_t S) {
  const int32_t wp = (p->out_w - 1) * S + K;
  const int32_t rw = (wp > p->pad_left + p->in_w ? wp : p->pad_left + p->in_w) + 8;
  return (rw + 3) & ~3;
}
/* The ring: two copies of K rows, at least the vww1-sized 2 * K * DW_RW_MAX(K)
 * (which keeps small maps in plane mode). */
static MCUNET_ALWAYS_INLINE int32_t dw_ring_bytes(const int32_t K, const int32_t rw) {
  return 2 * K * (rw > DW_RW_MAX(K) ? rw : DW_RW_MAX(K));
}
static MCUNET_ALWAYS_INLINE int32_t pack16(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}
/* Low half of lo, high half of hi: PKHBT. */
static MCUNET_ALWAYS_INLINE int32_t pkhbt(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi & 0xFFFF0000u));
}

/* Channel values s[0], s[C], ... s[(W-1)C] to d[0..W-1] (and d[dup..dup+W-1]
 * when dup != 0). */
static MCUNET_ALWAYS_INLINE void dw_gather_row(const int8_t* s, int8_t* d, const int32_t dup, const int32_t W,
                                               const int32_t C) {
  int32_t x = 0;
  /* Four bytes per word store (unaligned STR). */
  for (; x + 4 <= W; x += 4) {
    const uint32_t v = (uint32_t)(uint8_t)s[0] | ((uint32_t)(uint8_t)s[C] << 8) |
                       ((uint32_t)(uint8_t)s[2 * C] << 16) | ((uint32_t)(uint8_t)s[3 * C] << 24);
    memcpy(d + x, &v, 4);
    if (dup) memcpy(d + dup + x, &v, 4);
    s += 4 * C;
  }
  for (; x < W; ++x, s += C) {
    d[x] = s[0];
    if (dup) d[dup + x] = s[0];
  }
}

/* One output row of a 3x3 stride-1 depthwise channel on the padded rows
 * (dw_rows_dsp, the rq_fast case), pairs of outputs: hand-written Thumb-2
 * with the 3x3 weights in five registers (the centre-column taps packed two
 * per register), 48 instructions per pair. The context is copied to the
 * frame on entry; layout below. */
typedef struct dw3_row_ctx {
  const int8_t* row; /* 0: padded row 0 at output 0 */
  int32_t rw;        /* 4: padded row stride */
  int32_t rw2;       /* 8: 2 * rw */
  int32_t wE0;       /* 12: pack16(w[ky][0], w[ky][2]) for ky = 0, 1, 2 */
  int32_t wE1;       /* 16 */
  int32_t wE2;       /* 20 */
  int32_t w1a;       /* 24: pack16(w[0][1], w[1][1]) */
  int32_t w1b;       /* 28: w[2][1] */
  int8_t* o;         /* 32: output 0 */
  const int8_t* o_end; /* 36: o + 2 * npairs * C */
  int32_t b;         /* 40: 2 x bias with zero-point term (weights doubled too: sum = 2 acc) */
  int32_t mult;      /* 44 */
  int32_t rnd;       /* 48 */
  int32_t e;         /* 52 */
  int32_t zp;        /* 56 */
  int32_t c;         /* 60: output stride (channels) */
  int32_t odd;       /* 64: OW odd: after the pairs, the pair (OW-2, OW-1) once more */
  int32_t nrows;     /* 68: output rows to run (the next at row + rstep, o + ostep) */
  int32_t rstep;     /* 72 */
  int32_t ostep;     /* 76 */
  int32_t span;      /* 80: o_end - o */
  int32_t odd0;      /* 84: odd for every row */
} dw3_row_ctx;
void mcunet_depthwise3s1_row_pairs(const dw3_row_ctx* c);
#define DW3_TAP(ld, wE, mlo, mhi)          \
  ld "\n\t"                               \
  "sxtb16 r11, r10\n\t"                   \
  "sxtb16 r12, r10, ror #8\n\t"           \
  "smlad r8, r11, " wE ", r8\n\t"         \
  "smlad r9, r12, " wE ", r9\n\t"         \
  mlo ", r12, r8\n\t"                    \
  mhi ", r11, r9\n\t"

/* The frame, the pair loop, the requantisation and stores, the odd-width
 * tail and the next output row of the two 3x3 row kernels; what differs:
 * TAPS (the three kernel rows of a pair), ADVANCE (input bytes per pair:
 * 2 x stride) and BACK_ODD (input bytes back for the repeated last pair). */
#define DW3_ROW_PAIRS_KERNEL(NAME, TAPS, ADVANCE, BACK_ODD)                 \
  __asm__(                                                                  \
  ".syntax unified\n\t"                                                     \
  ".thumb\n\t"                                                              \
  ".text\n\t"                                                               \
  ".align 2\n\t"                                                            \
  ".global " NAME "\n\t"                                                    \
  ".hidden " NAME "\n\t"                                                    \
  ".type " NAME ", %function\n\t"                                           \
  ".thumb_func\n"                                                           \
  NAME ":\n\t"                                                              \
  "push {r4-r11, lr}\n\t"                                                   \
  "sub sp, sp, #88\n\t"                                                     \
  "add r1, r0, #64\n\t"                                                     \
  "ldm r1, {r2-r7}\n\t"                                                     \
  "add r1, sp, #64\n\t"                                                     \
  "stm r1, {r2-r7}\n\t"                                                     \
  "ldm r0, {r1-r8}\n\t"                                                     \
  "stm sp, {r1-r8}\n\t"                                                     \
  "add r1, sp, #32\n\t"                                                     \
  "add r0, r0, #32\n\t"                                                     \
  "ldm r0, {r2-r9}\n\t"                                                     \
  "stm r1, {r2-r9}\n\t"                                                     \
  "ldm sp, {r0-r7}\n\t"        /* row, rw, rw2, wE0, wE1, wE2, w1a, w1b */  \
  "ldr lr, [sp, #32]\n"        /* o */                                      \
  "1:\n\t"                                                                  \
  "ldr r8, [sp, #40]\n\t"                                                   \
  "mov r9, r8\n\t"                                                          \
  TAPS                                                                      \
  "ldr r10, [sp, #44]\n\t"                                                  \
  "smmulr r8, r8, r10\n\t"                                                  \
  "smmulr r9, r9, r10\n\t"                                                  \
  "ldrd r10, r11, [sp, #48]\n\t" /* rnd, e */                               \
  "qadd r12, r8, r10\n\t"                                                   \
  "add r12, r12, r8, asr #31\n\t"                                           \
  "asr r12, r12, r11\n\t"                                                   \
  "qadd r10, r9, r10\n\t"                                                   \
  "add r10, r10, r9, asr #31\n\t"                                           \
  "asr r10, r10, r11\n\t"                                                   \
  "ldrd r11, r8, [sp, #56]\n\t"  /* zp, c */                                \
  "add r12, r12, r11\n\t"                                                   \
  "ssat r12, #8, r12\n\t"                                                   \
  "add r10, r10, r11\n\t"                                                   \
  "ssat r10, #8, r10\n\t"                                                   \
  "strb r12, [lr]\n\t"                                                      \
  "strb r10, [lr, r8]\n\t"                                                  \
  "add lr, lr, r8, lsl #1\n\t"                                              \
  "add r0, r0, #" ADVANCE "\n\t"                                            \
  "ldr r8, [sp, #36]\n\t"                                                   \
  "cmp lr, r8\n\t"                                                          \
  "bne 1b\n\t"                                                              \
  "ldr r8, [sp, #64]\n\t"                                                   \
  "cmp r8, #0\n\t"                                                          \
  "beq 9f\n\t"                                                              \
  "mov r8, #0\n\t"                                                          \
  "str r8, [sp, #64]\n\t"                                                   \
  "ldr r8, [sp, #60]\n\t"                                                   \
  "sub lr, lr, r8\n\t"                                                      \
  "sub r0, r0, #" BACK_ODD "\n\t"                                           \
  "add r8, lr, r8, lsl #1\n\t"                                              \
  "str r8, [sp, #36]\n\t"                                                   \
  "b 1b\n"                                                                  \
  "9:\n\t"                                                                  \
  "ldr r8, [sp, #68]\n\t"                                                   \
  "subs r8, r8, #1\n\t"                                                     \
  "beq 8f\n\t"                                                              \
  "str r8, [sp, #68]\n\t"                                                   \
  "ldrd r8, r9, [sp, #72]\n\t"                                              \
  "ldr r0, [sp]\n\t"                                                        \
  "add r0, r0, r8\n\t"                                                      \
  "str r0, [sp]\n\t"                                                        \
  "ldr lr, [sp, #32]\n\t"                                                   \
  "add lr, lr, r9\n\t"                                                      \
  "str lr, [sp, #32]\n\t"                                                   \
  "ldrd r8, r9, [sp, #80]\n\t"                                              \
  "add r8, lr, r8\n\t"                                                      \
  "str r8, [sp, #36]\n\t"                                                   \
  "str r9, [sp, #64]\n\t"                                                   \
  "b 1b\n"                                                                  \
  "8:\n\t"                                                                  \
  "add sp, sp, #88\n\t"                                                     \
  "pop {r4-r11, pc}\n\t"                                                    \
  ".size " NAME ", .-" NAME "\n\t")
DW3_ROW_PAIRS_KERNEL("mcunet_depthwise3s1_row_pairs",
                     DW3_TAP("ldr r10, [r0]", "r3", "smlabb r8, r6", "smlabt r9, r6")
                         DW3_TAP("ldr r10, [r0, r1]", "r4", "smlatb r8, r6", "smlatt r9, r6")
                         DW3_TAP("ldr r10, [r0, r2]", "r5", "smlabb r8, r7", "smlabt r9, r7"),
                     "2", "1");
#undef DW3_TAP

/* 3x3 stride 2, pairs of outputs (same context; the row pointer advances by
 * 4 per pair): words at 2x and 2x+4 give E = (i0, i2), O = (i1, i3),
 * E' = (i4, i6);
 *   out[x]   = (w0,w2).E + w1 i1
 *   out[x+1] = SMLADX(PKHBT(E', E) = (i4, i2), (w0,w2)) + w1 i3
 * 10-11 instructions per kernel row and pair. */
void mcunet_depthwise3s2_row_pairs(const dw3_row_ctx* c);
#define DW3S2_TAP(ld, wE, mlo, mhi)        \
  ld                                      \
  "sxtb16 r12, r10\n\t"                   \
  "sxtb16 r10, r10, ror #8\n\t"           \
  "sxtb16 r11, r11\n\t"                   \
  "smlad r8, r12, " wE ", r8\n\t"         \
  mlo ", r10, r8\n\t"                    \
  "pkhbt r11, r11, r12\n\t"               \
  "smladx r9, r11, " wE ", r9\n\t"        \
  mhi ", r10, r9\n\t"
DW3_ROW_PAIRS_KERNEL("mcunet_depthwise3s2_row_pairs",
                     DW3S2_TAP("ldr r10, [r0]\n\tldr r11, [r0, #4]\n\t", "r3", "smlabb r8, r6", "smlabt r9, r6")
                         DW3S2_TAP("add r11, r0, r1\n\tldr r10, [r11]\n\tldr r11, [r11, #4]\n\t", "r4", "smlatb r8, r6", "smlatt r9, r6")
                         DW3S2_TAP("add r11, r0, r2\n\tldr r10, [r11]\n\tldr r11, [r11, #4]\n\t", "r5", "smlabb r8, r7", "smlabt r9, r7"),
                     "4", "2");
#undef DW3S2_TAP
#undef DW3_ROW_PAIRS_KERNEL

/* One output row of a 7x7 stride-1 depthwise channel on the padded rows
 * (dw_rows_dsp, the rq_fast case), pairs of outputs: hand-written Thumb-2.
 * Per kernel row ky the four weight words w[ky] = {(w0, w2), (w1, w3),
 * (w4, w6), w5} come by one LDM from a table on the caller's stack, the
 * inputs i0..i7 by two unaligned words, widened by SXTB16 into
 * E = (i0, i2), O = (i1, i3), E' = (i4, i6), O' = (i5, i7):
 *   out[x]   = (w0,w2).E + (w1,w3).O + (w4,w6).E' + w5 i5
 *   out[x+1] = (w0,w2).O + (w4,w6).O' + w1 i2 + w3 i4 + w5 i6
 * 17 instructions per kernel row and pair. Context copied to the frame. */
typedef struct dw7_row_ctx {
  const int8_t* row;   /* 0: padded row 0 at output 0 */
  int32_t rw;          /* 4: padded row stride */
  const int32_t* w;    /* 8: 7 x 4 weight words */
  int32_t back;        /* 12: 7 * rw - 2 */
  int8_t* o;           /* 16: output 0 */
  const int8_t* o_end; /* 20: o + 2 * npairs * C */
  int32_t b;           /* 24: doubled as in dw3_row_ctx (and so are the weight words) */
  int32_t mult;        /* 28 */
  int32_t rnd;         /* 32 */
  int32_t e;           /* 36 */
  int32_t zp;          /* 40 */
  int32_t c;           /* 44: output stride (channels) */
  int32_t odd;         /* 48: as in dw3_row_ctx, and so are the next five */
  int32_t nrows;       /* 52 */
  int32_t rstep;       /* 56 */
  int32_t ostep;       /* 60 */
  int32_t span;        /* 64 */
  int32_t odd0;        /* 68 */
} dw7_row_ctx;
void mcunet_depthwise7s1_row_pairs(const dw7_row_ctx* c);
#define DW7_ROW                   \
  "ldr r10, [r0]\n\t"             \
  "ldr r11, [r0, #4]\n\t"         \
  "add r0, r0, r1\n\t"            \
  "ldmia r2!, {r3-r6}\n\t"        \
  "sxtb16 r7, r10\n\t"            \
  "sxtb16 r10, r10, ror #8\n\t"   \
  "sxtb16 r12, r11\n\t"           \
  "sxtb16 r11, r11, ror #8\n\t"   \
  "smlad r8, r7, r3, r8\n\t"      \
  "smlad r8, r10, r4, r8\n\t"     \
  "smlad r8, r12, r5, r8\n\t"     \
  "smlabb r8, r6, r11, r8\n\t"    \
  "smlad r9, r10, r3, r9\n\t"     \
  "smlad r9, r11, r5, r9\n\t"     \
  "smlabt r9, r4, r7, r9\n\t"     \
  "smlatb r9, r4, r12, r9\n\t"    \
  "smlabt r9, r6, r12, r9\n\t"

/* The frame, the pair loop, the requantisation and stores, the odd-width
 * tail and the next output row of the three row kernels on a dw7_row_ctx;
 * what differs: ROWS (the K kernel rows of a pair), REWIND (bytes of the
 * weight table, K x words x 4, rewound per pair) and BACK_ODD (input bytes
 * back for the repeated last pair: the stride). */
#define DW7_ROW_PAIRS_KERNEL(NAME, ROWS, REWIND, BACK_ODD)  \
  __asm__(                                                  \
  ".syntax unified\n\t"                                     \
  ".thumb\n\t"                                              \
  ".text\n\t"                                               \
  ".align 2\n\t"                                            \
  ".global " NAME "\n\t"                                    \
  ".hidden " NAME "\n\t"                                    \
  ".type " NAME ", %function\n\t"                           \
  ".thumb_func\n"                                           \
  NAME ":\n\t"                                              \
  "push {r4-r11, lr}\n\t"                                   \
  "sub sp, sp, #72\n\t"                                     \
  "add r1, r0, #48\n\t"                                     \
  "ldm r1, {r2-r7}\n\t"                                     \
  "add r1, sp, #48\n\t"                                     \
  "stm r1, {r2-r7}\n\t"                                     \
  "ldm r0, {r1-r12}\n\t"                                    \
  "stm sp, {r1-r12}\n\t"                                    \
  "mov r0, r1\n\t"             /* row */                    \
  "mov r1, r2\n\t"             /* rw */                     \
  "mov r2, r3\n\t"             /* w */                      \
  "mov lr, r5\n"               /* o */                      \
  "1:\n\t"                                                  \
  "ldr r8, [sp, #24]\n\t"                                   \
  "mov r9, r8\n\t"                                          \
  ROWS                                                      \
  "ldr r10, [sp, #28]\n\t"                                  \
  "smmulr r8, r8, r10\n\t"                                  \
  "smmulr r9, r9, r10\n\t"                                  \
  "ldrd r10, r11, [sp, #32]\n\t" /* rnd, e */               \
  "qadd r12, r8, r10\n\t"                                   \
  "add r12, r12, r8, asr #31\n\t"                           \
  "asr r12, r12, r11\n\t"                                   \
  "qadd r10, r9, r10\n\t"                                   \
  "add r10, r10, r9, asr #31\n\t"                           \
  "asr r10, r10, r11\n\t"                                   \
  "ldrd r11, r8, [sp, #40]\n\t"  /* zp, c */                \
  "add r12, r12, r11\n\t"                                   \
  "ssat r12, #8, r12\n\t"                                   \
  "add r10, r10, r11\n\t"                                   \
  "ssat r10, #8, r10\n\t"                                   \
  "strb r12, [lr]\n\t"                                      \
  "strb r10, [lr, r8]\n\t"                                  \
  "add lr, lr, r8, lsl #1\n\t"                              \
  "ldr r3, [sp, #12]\n\t"                                   \
  "sub r0, r0, r3\n\t"                                      \
  "sub r2, r2, #" REWIND "\n\t"                             \
  "ldr r8, [sp, #20]\n\t"                                   \
  "cmp lr, r8\n\t"                                          \
  "bne 1b\n\t"                                              \
  "ldr r8, [sp, #48]\n\t"                                   \
  "cmp r8, #0\n\t"                                          \
  "beq 9f\n\t"                                              \
  "mov r8, #0\n\t"                                          \
  "str r8, [sp, #48]\n\t"                                   \
  "ldr r8, [sp, #44]\n\t"                                   \
  "sub lr, lr, r8\n\t"                                      \
  "sub r0, r0, #" BACK_ODD "\n\t"                           \
  "add r8, lr, r8, lsl #1\n\t"                              \
  "str r8, [sp, #20]\n\t"                                   \
  "b 1b\n"                                                  \
  "9:\n\t"                                                  \
  "ldr r8, [sp, #52]\n\t"                                   \
  "subs r8, r8, #1\n\t"                                     \
  "beq 8f\n\t"                                              \
  "str r8, [sp, #52]\n\t"                                   \
  "ldrd r8, r9, [sp, #56]\n\t"                              \
  "ldr r0, [sp]\n\t"                                        \
  "add r0, r0, r8\n\t"                                      \
  "str r0, [sp]\n\t"                                        \
  "ldr lr, [sp, #16]\n\t"                                   \
  "add lr, lr, r9\n\t"                                      \
  "str lr, [sp, #16]\n\t"                                   \
  "ldrd r8, r9, [sp, #64]\n\t"                              \
  "add r8, lr, r8\n\t"                                      \
  "str r8, [sp, #20]\n\t"                                   \
  "str r9, [sp, #48]\n\t"                                   \
  "b 1b\n"                                                  \
  "8:\n\t"                                                  \
  "add sp, sp, #72\n\t"                                     \
  "pop {r4-r11, pc}\n\t"                                    \
  ".size " NAME ", .-" NAME "\n\t")
DW7_ROW_PAIRS_KERNEL("mcunet_depthwise7s1_row_pairs", DW7_ROW DW7_ROW DW7_ROW DW7_ROW DW7_ROW DW7_ROW DW7_ROW, "112", "1");
#undef DW7_ROW

/* The same for 5x5 stride 1 (three weight words per kernel row:
 * (w0, w2), (w1, w3), w4; back = 5 * rw - 2):
 *   out[x]   = (w0,w2).E + (w1,w3).O + w4 i4
 *   out[x+1] = (w0,w2).O + w1 i2 + w3 i4 + w4 i5
 * 15 instructions per kernel row and pair. */
void mcunet_depthwise5s1_row_pairs(const dw7_row_ctx* c);
#define DW5_ROW                   \
  "ldr r10, [r0]\n\t"             \
  "ldr r11, [r0, #4]\n\t"         \
  "add r0, r0, r1\n\t"            \
  "ldmia r2!, {r3-r5}\n\t"        \
  "sxtb16 r7, r10\n\t"            \
  "sxtb16 r10, r10, ror #8\n\t"   \
  "sxtb16 r12, r11\n\t"           \
  "sxtb16 r11, r11, ror #8\n\t"   \
  "smlad r8, r7, r3, r8\n\t"      \
  "smlad r8, r10, r4, r8\n\t"     \
  "smlabb r8, r5, r12, r8\n\t"    \
  "smlad r9, r10, r3, r9\n\t"     \
  "smlabt r9, r4, r7, r9\n\t"     \
  "smlatb r9, r4, r12, r9\n\t"    \
  "smlabb r9, r5, r11, r9\n\t"
DW7_ROW_PAIRS_KERNEL("mcunet_depthwise5s1_row_pairs", DW5_ROW DW5_ROW DW5_ROW DW5_ROW DW5_ROW, "60", "1");
#undef DW5_ROW

/* 7x7 stride 2, pairs of outputs (same context, back = 7 * rw - 4): the
 * words at 2x, 2x+4, 2x+8 give E = (i0, i2), O = (i1, i3), E' = (i4, i6),
 * O' = (i5, i7), E'' = (i8, i10);
 *   out[x]   = (w0,w2).E + (w1,w3).O + (w4,w6).E' + w5 i5
 *   out[x+1] = SMLADX((i4, i2), (w0,w2)) + SMLADX((i5, i3), (w1,w3))
 *            + SMLADX((i8, i6), (w4,w6)) + w5 i7
 * with the swapped pairs by PKHBT. 21 instructions per kernel row and pair. */
void mcunet_depthwise7s2_row_pairs(const dw7_row_ctx* c);
#define DW7S2_ROW                 \
  "ldr r10, [r0]\n\t"             \
  "ldr r11, [r0, #4]\n\t"         \
  "ldmia r2!, {r3-r6}\n\t"        \
  "sxtb16 r7, r10\n\t"            \
  "smlad r8, r7, r3, r8\n\t"      \
  "sxtb16 r10, r10, ror #8\n\t"   \
  "smlad r8, r10, r4, r8\n\t"     \
  "sxtb16 r12, r11\n\t"           \
  "sxtb16 r11, r11, ror #8\n\t"   \
  "smlad r8, r12, r5, r8\n\t"     \
  "smlabb r8, r6, r11, r8\n\t"    \
  "pkhbt r7, r12, r7\n\t"         \
  "smladx r9, r7, r3, r9\n\t"     \
  "pkhbt r10, r11, r10\n\t"       \
  "smladx r9, r10, r4, r9\n\t"    \
  "smlabt r9, r6, r11, r9\n\t"    \
  "ldr r7, [r0, #8]\n\t"          \
  "sxtb16 r7, r7\n\t"             \
  "pkhbt r7, r7, r12\n\t"         \
  "smladx r9, r7, r5, r9\n\t"     \
  "add r0, r0, r1\n\t"
DW7_ROW_PAIRS_KERNEL("mcunet_depthwise7s2_row_pairs", DW7S2_ROW DW7S2_ROW DW7S2_ROW DW7S2_ROW DW7S2_ROW DW7S2_ROW DW7S2_ROW, "112", "2");
#undef DW7S2_ROW
#undef DW7_ROW_PAIRS_KERNEL

static MCUNET_ALWAYS_INLINE int dw_rows_dsp(const mcunet_conv_params* p, const int8_t* input, int8_t* output,
                                            const int8_t* weights, const int32_t* bias, const int in_place,
                                            int8_t* ring, const int32_t K, const int32_t S) {
  const int32_t C = p->in_c, H = p->in_h, W = p->in_w, OH = p->out_h, OW = p->out_w;
  const int32_t pt = p->pad_top, pl = p->pad_left;
  const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
  const int8_t pad = (int8_t)p->in_zp;
  const int32_t rw = dw_ring_row_bytes(p, K, S);
  const int32_t ring_bytes = dw_ring_bytes(K, rw);
  int32_t c, i, oy, ox, ky;
  int32_t hp = (OH - 1) * S + K, plane, fast;
  dw3_row_ctx q;
  dw7_row_ctx q7;
  int32_t q7w[28];
  plane = hp * rw <= ring_bytes;
  if (ring_bytes > DW_RING_MAX || pl < 0 || pt < 0 || p->dilation_h > 1 || p->dilation_w > 1 || p->stride_h != S ||
      p->stride_w != S || p->kernel_h != K || p->kernel_w != K || OH <= 0 || OW <= 0 || W <= 0 || C <= 0) {
    return 0;
  }
  fast = pw_fast_ok(p, bias, K * K);
  /* 7x7 stride 1 only through the hand-written pairs (Flash: no C loop for
   * it); else the per-channel kernel. */
  if ((S == 1 || K != 5) && (!fast || OW < 2)) return 0;
  if (in_place) {
    for (oy = 0; oy < OH; ++oy) {
      const int32_t g = oy * S - pt + K - 1; /* last input row gathered for output row oy */
      if (g < H - 1 && ((oy + 1) * OW - 1) / W > g) return 0;
    }
  }
  for (i = 0; i < (plane ? hp : 2 * K) * rw; ++i) ring[i] = pad;
  for (c = 0; c < C; ++c) {
    int32_t wE[7], wO[7], wE1[7], w1[7], w4[7], w5[7];
    const int32_t mult = p->multiplier[c], shift = mcunet_conv_shift(p, c);
    const int32_t e = -shift, rnd = fast ? (int32_t)1 << (e - 1) : 0;
    int32_t b = bias ? bias[c] : 0; /* - in_zp * (sum of the K*K weights), below */
    const int8_t* in = input + c;
    int8_t* out = output + c;
    int32_t next = 0; /* next padded row to gather */
    for (ky = 0; ky < K; ++ky) {
      const int8_t* r = weights + ky * K * C + c;
      const int32_t r0 = r[0], r1 = r[C], r2 = r[2 * C];
      const int32_t r3 = K > 3 ? r[3 * C] : 0, r4 = K > 4 ? r[4 * C] : 0;
      const int32_t r5 = K > 5 ? r[5 * C] : 0, r6 = K > 6 ? r[6 * C] : 0;
      b -= p->in_zp * (r0 + r1 + r2 + r3 + r4 + r5 + r6);
      wE[ky] = pack16(r0, r2);
      wO[ky] = pack16(r1, r3);
      wE1[ky] = pack16(r4, r6);
      w1[ky] = r1;
      w4[ky] = r4;
      w5[ky] = r5;
    }
    if ((K >= 5 && S == 1) || K == 7) {
      /* Weight words per kernel row: 4 for K = 7, 3 for K = 5. */
      int32_t* t = q7w;
      for (ky = 0; ky < K; ++ky) {
        *t++ = __sadd16(wE[ky], wE[ky]);
        *t++ = __sadd16(wO[ky], wO[ky]);
        if (K == 7) {
          *t++ = __sadd16(wE1[ky], wE1[ky]);
          *t++ = 2 * w5[ky];
        } else {
          *t++ = 2 * w4[ky];
        }
      }
      q7.rw = rw;
      q7.w = q7w;
      q7.back = K * rw - 2 * S;
      q7.b = 2 * b;
      q7.mult = mult;
      q7.rnd = rnd;
      q7.e = e;
      q7.zp = zp;
      q7.c = C;
      q7.nrows = plane ? OH : 1;
      q7.rstep = S * rw;
      q7.ostep = OW * C;
      q7.span = (OW & ~1) * C;
      q7.odd0 = OW & 1;
    }
    if (K == 3 && fast) {
      /* The row kernel's context: all but the row and output pointers once per channel. */
      q.rw = rw;
      q.rw2 = 2 * rw;
      q.wE0 = __sadd16(wE[0], wE[0]);
      q.wE1 = __sadd16(wE[1], wE[1]);
      q.wE2 = __sadd16(wE[2], wE[2]);
      q.w1a = pack16(2 * w1[0], 2 * w1[1]);
      q.w1b = 2 * w1[2];
      q.b = 2 * b;
      q.mult = mult;
      q.rnd = rnd;
      q.e = e;
      q.zp = zp;
      q.c = C;
      q.nrows = plane ? OH : 1;
      q.rstep = S * rw;
      q.ostep = OW * C;
      q.span = (OW & ~1) * C;
      q.odd0 = OW & 1;
    }
    if (plane) {
      /* The whole padded plane fits: each input row once, pad rows stay pad. */
      for (i = 0; i < H && i + pt < hp; ++i) dw_gather_row(in + i * W * C, ring + (i + pt) * rw + pl, 0, W, C);
    }
    for (oy = 0; oy < OH; ++oy) {
      const int8_t* rows;
      int8_t* o = out + oy * OW * C;
      if (plane) {
        rows = ring + oy * S * rw;
      } else {
        for (; next < oy * S + K; ++next) {
          int8_t* d0 = ring + (next % K) * rw + pl;
          const int32_t r = next - pt;
          if (r < 0 || r >= H) {
            for (i = 0; i < W; ++i) d0[i] = d0[i + K * rw] = pad;
          } else {
            dw_gather_row(in + r * W * C, d0, K * rw, W, C);
          }
        }
        rows = ring + ((oy * S) % K) * rw;
      }
      if (S == 1 || K != 5) {
        /* The Thumb-2 pairs: every output row of the plane in one call, else
         * this row. An odd row ends with the pair (OW-2, OW-1) again (output
         * OW-2 is rewritten with the value it holds: the inputs come from
         * the ring, not from the outputs). */
        if (K == 3) {
          q.row = rows;
          q.o = o;
          q.o_end = o + q.span;
          q.odd = q.odd0;
          (S == 1 ? mcunet_depthwise3s1_row_pairs : mcunet_depthwise3s2_row_pairs)(&q);
        } else {
          q7.row = rows;
          q7.o = o;
          q7.o_end = o + q7.span;
          q7.odd = q7.odd0;
          (K == 5 ? mcunet_depthwise5s1_row_pairs
                  : S == 1 ? mcunet_depthwise7s1_row_pairs : mcunet_depthwise7s2_row_pairs)(&q7);
        }
        if (plane) break;
        continue;
      }
      /* 5x5 stride 2 (everything else runs the Thumb-2 pairs above): one output per step. */
      for (ox = 0; K == 5 && ox < OW; ++ox) {
        int32_t acc = b;
        const int8_t* row = rows + 2 * ox;
#pragma GCC unroll 5
        for (ky = 0; ky < K; ++ky, row += rw) {
          const int32_t v0 = ld32(row);
          acc = __smlad(__sxtb16(v0), wE[ky], acc);
          acc = __smlad(sxtb16_ror8(v0), wO[ky], acc);
          acc = __smlabb(w4[ky], __sxtb16(ld32(row + 4)), acc);
        }
        o[ox * C] = DW_RQ(acc);
      }
    }
  }
  return 1;
}
/* One function per kernel size for both strides (Flash: the set-up and the
 * row gathering are shared; the stride is tested once per output row). */
#define MCUNET_DEFINE_DW_ROWS(K)                                                                               \
  static __attribute__((noinline)) int dw_rows_k##K##_ring(const mcunet_conv_params* p, const int8_t* input,   \
                                                           int8_t* output, const int8_t* weights,             \
                                                           const int32_t* bias, int in_place, int8_t* ring) { \
    return dw_rows_dsp(p, input, output, weights, bias, in_place, ring, K, p->stride_h == 1 ? 1 : 2);         \
  }                                                                                                             \
  /* The ring (dw_ring_bytes) as a variable-length array here, not in the                                       \
   * kernel above, which then needs no frame pointer (a register more for its                                   \
   * loops). */                                                                                                 \
  static __attribute__((noinline)) int dw_rows_k##K(const mcunet_conv_params* p, const int8_t* input,         \
                                                     int8_t* output, const int8_t* weights, const int32_t* bias, \
                                                     int in_place) {                                          \
    const int32_t bytes = dw_ring_bytes(K, dw_ring_row_bytes(p, K, p->stride_h == 1 ? 1 : 2));                 \
    if (bytes > DW_RING_MAX) return 0;                                                                          \
    {                                                                                                           \
      int8_t ring[bytes];                                                                                       \
      return dw_rows_k##K##_ring(p, input, output, weights, bias, in_place, ring);                              \
    }                                                                                                           \
  }
MCUNET_DEFINE_DW_ROWS(3)
MCUNET_DEFINE_DW_ROWS(5)
MCUNET_DEFINE_DW_ROWS(7)
#define DW_ROWS(K, S, p, in, out, w, b, inplace) dw_rows_k##K(p, in, out, w, b, inplace)
#else
#define DW_ROWS(K, S, p, in, out, w, b, inplace) 0
#endif
/* With the DSP rows kernel the per-channel fallback (a ring wider than
 * DW_RING_MAX, or an in-place order it cannot keep) is the generic one: less
 * code, and rarely taken. */
#if defined(MCUNET_USE_DSP)
#define DW_FALLBACK(K, S) dw_channel_generic
#else
#define DW_FALLBACK(K, S) dw_channel_k##K##s##S
#endif
#define MCUNET_DEFINE_DW(K, S)                                                                                  \
  static void dw_channel_k##K##s##S(const mcunet_conv_params* p, const int8_t* in, const int8_t* weights,       \
                                    const int32_t* bias, int32_t c, int8_t* dst, int32_t dst_stride) {          \
    dw_channel_fixed(p, in, weights, bias, c, dst, dst_stride, K, K, S, S);                                     \
  }                                                                                                             \
  void mcunet_depthwise_conv_s8_k##K##s##S(const mcunet_conv_params* p, const int8_t* input,                    \
                                           const int8_t* weights, const int32_t* bias, int8_t* output) {        \
    if (DW_ROWS(K, S, p, input, output, weights, bias, 0)) return;                                              \
    dw_out_of_place(p, input, weights, bias, output, DW_FALLBACK(K, S));                                        \
  }                                                                                                             \
  void mcunet_depthwise_conv_s8_inplace_k##K##s##S(const mcunet_conv_params* p, int8_t* buffer,                 \
                                                   const int8_t* weights, const int32_t* bias, int8_t* scratch) { \
    if (DW_ROWS(K, S, p, buffer, buffer, weights, bias, 1)) return;                                             \
    dw_in_place(p, buffer, weights, bias, scratch, DW_FALLBACK(K, S));                                          \
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
#if defined(MCUNET_USE_DSP)
/* SRDHM(x, M) for |x| < 2^30: SMMULR(2x, M), exact (see rq_fast). */
static MCUNET_ALWAYS_INLINE int32_t srdhm_small(int32_t x, int32_t m) {
  int32_t h;
  __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"((int32_t)((uint32_t)x << 1)), "r"(m));
  return h;
}
/* RoundingDivideByPOT(h, e), 0 <= e <= 31, for |h| < 2^30: (h + rnd + [h < 0 and e > 0]) >> e
 * with rnd = 2^(e-1) (0 for e = 0) and neg = -1 for e > 0 (0 for e = 0). */
static MCUNET_ALWAYS_INLINE int32_t rdbpot_small(int32_t h, int32_t e, int32_t rnd, int32_t neg) {
  return (h + rnd + ((h >> 31) & neg)) >> e;
}
/* ADD with every intermediate below 2^30 in magnitude: (x - zp) 2^left_shift
 * with left_shift <= 21 is below 2^29, and so are the two rescaled inputs
 * (multipliers < 2^31, shifts <= 0) and their sum (< 2^30). Returns 0 when
 * the parameters are outside that range. */
static int add_dsp(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  const int32_t ls = p->left_shift;
  const int32_t zp1 = p->in1_zp, m1 = p->in1_multiplier, e1 = -p->in1_shift;
  const int32_t zp2 = p->in2_zp, m2 = p->in2_multiplier, e2 = -p->in2_shift;
  const int32_t mo = p->out_multiplier, eo = -p->out_shift, zpo = p->out_zp;
  const int32_t lo = p->act_min, hi = p->act_max, n = p->size;
  const int32_t rnd1 = e1 > 0 ? (int32_t)1 << (e1 - 1) : 0, neg1 = e1 > 0 ? -1 : 0;
  const int32_t rnd2 = e2 > 0 ? (int32_t)1 << (e2 - 1) : 0, neg2 = e2 > 0 ? -1 : 0;
  const int32_t rndo = eo > 0 ? (int32_t)1 << (eo - 1) : 0, nego = eo > 0 ? -1 : 0;
  const int full = lo == -128 && hi == 127;
  int32_t i;
  if (ls < 0 || ls > 21 || e1 < 0 || e1 > 31 || e2 < 0 || e2 > 31 || eo < 0 || eo > 31 || m1 < 0 || m2 < 0 ||
      mo < 0) {
    return 0;
  }
  for (i = 0; i < n; ++i) {
    const int32_t x1 = input1[i];
    const int32_t x2 = input2[i];
    const int32_t r1 = rdbpot_small(srdhm_small((int32_t)((uint32_t)(x1 - zp1) << ls), m1), e1, rnd1, neg1);
    const int32_t r2 = rdbpot_small(srdhm_small((int32_t)((uint32_t)(x2 - zp2) << ls), m2), e2, rnd2, neg2);
    const int32_t raw = rdbpot_small(srdhm_small(r1 + r2, mo), eo, rndo, nego) + zpo;
    output[i] = (int8_t)(full ? __ssat(raw, 8) : mcunet_clamp_i32(raw, lo, hi));
  }
  return 1;
}
#endif

void mcunet_add_s8(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
#if defined(MCUNET_USE_DSP)
  if (add_dsp(p, input1, input2, output)) return;
#endif
  {
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
