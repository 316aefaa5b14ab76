/* TFLite int8 requantisation, bit-exact (the default double-rounding build of
 * TFLite / TF-Lite Micro: kernels/internal/common.h with
 * TFLITE_SINGLE_ROUNDING unset, gemmlowp fixedpoint.h).
 *
 * Freestanding C99, header only, compiles as C++ too. No libc.
 *
 * Implementation-defined behaviour relied upon (true for GCC, Clang and
 * arm-none-eabi-gcc): `>>` of a negative int32_t is an arithmetic shift, and
 * conversion of an out-of-range value to int32_t wraps modulo 2^32.
 *
 * The multiplier/shift pairs are computed on the host by
 * mcunet::QuantizeMultiplier (include/mcunet/quantize_multiplier.h).
 */
#ifndef MCUNET_RUNTIME_REQUANTIZE_H_
#define MCUNET_RUNTIME_REQUANTIZE_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gemmlowp SaturatingRoundingDoublingHighMul (== ARM VQRDMULH):
 * a * b / 2^31 rounded with ties toward +infinity, i.e.
 * floor((a*b + 2^30) / 2^31): the nudge is 2^30 for a non-negative product
 * and 1 - 2^30 for a negative one, then C division truncates toward zero
 * (so -0.5 -> 0, -1.5 -> -1, 1.5 -> 2). INT32_MIN * INT32_MIN saturates to
 * INT32_MAX. */
static inline int32_t mcunet_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  int64_t ab;
  int64_t nudge;
  if (a == b && a == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero,
 * 0 <= exponent <= 31. */
static inline int32_t mcunet_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (double rounding):
 *   left  = max(shift, 0), right = max(-shift, 0)
 *   RoundingDivideByPOT(SRDHM(x * 2^left, M), right)
 * Precondition: -31 <= shift <= 30. `x * 2^left` is computed modulo 2^32
 * (TFLite's int32 multiply; it never overflows for in-range accumulators). */
static inline int32_t mcunet_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? (int)shift : 0;
  const int right = shift > 0 ? 0 : (int)-shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left);
  return mcunet_rounding_divide_by_pot(mcunet_sat_rounding_doubling_high_mul(shifted, multiplier), right);
}

/* TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (used by ADD):
 * RoundingDivideByPOT(SRDHM(x, M), -left_shift), left_shift <= 0. */
static inline int32_t mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp(int32_t x, int32_t multiplier,
                                                                                   int32_t left_shift) {
  return mcunet_rounding_divide_by_pot(mcunet_sat_rounding_doubling_high_mul(x, multiplier), (int)-left_shift);
}

static inline int32_t mcunet_clamp_i32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Index of the highest set bit of a positive 64-bit value (63 - CLZ), no
 * builtins so it stays portable. */
static inline int mcunet_floor_log2_u64(uint64_t v) {
  int r = -1;
  while (v != 0) {
    v >>= 1;
    ++r;
  }
  return r;
}

/* TF-Lite Micro int8 MEAN (reference_ops::QuantizedMeanOrSum with
 * compute_sum == false) folds 1/num_elements into the multiplier derived from
 * input_scale / output_scale:
 *   s  = min(floor(log2(n)), 32, 31 + shift)
 *   M' = (int32)((int64)M << s) / n,  shift' = shift - s
 * Host-side (the code generator calls it once); `n` > 0. */
static inline void mcunet_mean_fold_multiplier(int32_t multiplier, int32_t shift, int64_t n,
                                               int32_t* folded_multiplier, int32_t* folded_shift) {
  int s = mcunet_floor_log2_u64((uint64_t)n);
  if (s > 32) s = 32;
  if (s > 31 + shift) s = (int)(31 + shift);
  if (s < 0) s = 0; /* only for shift < -31, which QuantizeMultiplier never yields */
  *folded_multiplier = (int32_t)(((int64_t)multiplier * ((int64_t)1 << s)) / n);
  *folded_shift = shift - s;
}

#ifdef __cplusplus
}
#endif

#endif /* MCUNET_RUNTIME_REQUANTIZE_H_ */
