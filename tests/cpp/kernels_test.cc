// Tests of the int8 kernel library (engine/runtime): requantisation edge
// cases, the host-side multiplier derivation, hand-computed tiny kernels, and
// randomized byte-for-byte equality of the optimised kernels with the
// reference ones, including in-place depthwise, pointwise convs over
// overlapping buffers at every offset the tinyengine planner allows, and ADD
// in place. Buffers are heap vectors of exact size so ASan catches overruns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "mcunet/error.h"
#include "mcunet/quantize_multiplier.h"
#include "mcunet_kernels.h"
#include "requantize.h"

namespace {

using Bytes = std::vector<int8_t>;

constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

// ---- Independent formulations of the TFLite rounding steps -------------------

// round(p / 2^e) half away from zero, exact, for e >= 1.
__int128 DivPow2RoundHalfAway(__int128 p, int e) {
  const __int128 half = static_cast<__int128>(1) << (e - 1);
  const __int128 mag = p < 0 ? -p : p;
  const __int128 q = (mag + half) >> e;
  return p < 0 ? -q : q;
}

// SaturatingRoundingDoublingHighMul rounds a*b / 2^31 half *up* (toward +inf;
// the nudge 1 - 2^30 for negative products then truncation toward zero), like
// VQRDMULH: floor((a*b + 2^30) / 2^31).
int32_t SrdhmOracle(int32_t a, int32_t b) {
  const __int128 p = static_cast<__int128>(a) * b + (static_cast<__int128>(1) << 30);
  const __int128 r = p >= 0 ? p >> 31 : -((-p + ((static_cast<__int128>(1) << 31) - 1)) >> 31);  // floor
  return r > kMax32 ? kMax32 : static_cast<int32_t>(r);
}

int32_t RdbpotOracle(int32_t x, int e) {
  if (e == 0) return x;
  return static_cast<int32_t>(DivPow2RoundHalfAway(x, e));
}

int32_t MbqmOracle(int32_t x, int32_t m, int shift) {
  const int left = std::max(shift, 0), right = std::max(-shift, 0);
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return RdbpotOracle(SrdhmOracle(shifted, m), right);
}

// ---- Requantisation ---------------------------------------------------------

TEST(Requantize, SaturatingRoundingDoublingHighMulEdges) {
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(kMin32, kMin32), kMax32);
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(kMin32, kMax32), -kMax32);
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(kMax32, kMax32), kMax32 - 1);
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(kMin32, 1 << 30), -(1 << 30));
  // Ties round up (toward +inf), not away from zero: 1 * 2^30 / 2^31 = 0.5.
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(1, 1 << 30), 1);
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(-1, 1 << 30), 0);   // -0.5 -> 0
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(-3, (1 << 30) + 1), -2);  // just below -1.5
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(0, kMin32), 0);
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(1, 1), 0);  // 2^-31
  EXPECT_EQ(mcunet_sat_rounding_doubling_high_mul(-1, 1), 0);
}

TEST(Requantize, SaturatingRoundingDoublingHighMulRandom) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  const int32_t special[] = {kMin32, kMin32 + 1, -(1 << 30), -1, 0, 1, 1 << 30, kMax32 - 1, kMax32};
  for (int32_t a : special) {
    for (int32_t b : special) ASSERT_EQ(mcunet_sat_rounding_doubling_high_mul(a, b), SrdhmOracle(a, b)) << a << " " << b;
  }
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = any(rng), b = any(rng);
    ASSERT_EQ(mcunet_sat_rounding_doubling_high_mul(a, b), SrdhmOracle(a, b)) << a << " " << b;
  }
}

TEST(Requantize, RoundingDivideByPotAllExponents) {
  EXPECT_EQ(mcunet_rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(mcunet_rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(mcunet_rounding_divide_by_pot(3, 1), 2);
  EXPECT_EQ(mcunet_rounding_divide_by_pot(-3, 1), -2);
  EXPECT_EQ(mcunet_rounding_divide_by_pot(7, 2), 2);    // 1.75
  EXPECT_EQ(mcunet_rounding_divide_by_pot(-6, 2), -2);  // -1.5
  EXPECT_EQ(mcunet_rounding_divide_by_pot(-5, 2), -1);  // -1.25
  EXPECT_EQ(mcunet_rounding_divide_by_pot(kMin32, 31), -1);
  EXPECT_EQ(mcunet_rounding_divide_by_pot(kMax32, 31), 1);
  EXPECT_EQ(mcunet_rounding_divide_by_pot(1 << 30, 31), 1);       // 0.5 -> 1
  EXPECT_EQ(mcunet_rounding_divide_by_pot(-(1 << 30), 31), -1);   // -0.5 -> -1
  EXPECT_EQ(mcunet_rounding_divide_by_pot((1 << 30) - 1, 31), 0);
  EXPECT_EQ(mcunet_rounding_divide_by_pot(kMin32, 0), kMin32);
  std::mt19937 rng(2);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  for (int e = 0; e <= 31; ++e) {
    const int32_t special[] = {kMin32, kMin32 + 1, -1, 0, 1, kMax32};
    for (int32_t x : special) ASSERT_EQ(mcunet_rounding_divide_by_pot(x, e), RdbpotOracle(x, e)) << x << " " << e;
    if (e >= 1) {
      // Exact ties k * 2^e + 2^(e-1) for small k, both signs.
      for (int32_t k = -3; k <= 3; ++k) {
        const int64_t t = static_cast<int64_t>(k) * (int64_t{1} << e) + (int64_t{1} << (e - 1));
        if (t < kMin32 || t > kMax32) continue;
        ASSERT_EQ(mcunet_rounding_divide_by_pot(static_cast<int32_t>(t), e), RdbpotOracle(static_cast<int32_t>(t), e));
        ASSERT_EQ(mcunet_rounding_divide_by_pot(static_cast<int32_t>(-t), e),
                  RdbpotOracle(static_cast<int32_t>(-t), e));
      }
    }
    for (int i = 0; i < 20000; ++i) {
      const int32_t x = any(rng);
      ASSERT_EQ(mcunet_rounding_divide_by_pot(x, e), RdbpotOracle(x, e)) << x << " " << e;
    }
  }
}

TEST(Requantize, MultiplyByQuantizedMultiplierHandValues) {
  const int32_t half = 1 << 30;  // M = 2^30 with shift 0 is 0.5
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(100, half, 0), 50);
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(100, half, 1), 100);  // 1.0
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(-7, half, 1), -7);
  // Double rounding: 5 * 0.25 = 1.25, but SRDHM rounds 2.5 -> 3, then 3 / 2 -> 2.
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(5, half, -1), 2);
  // -5 * 0.25: SRDHM rounds -2.5 up to -2, then -2 / 2 = -1.
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(-5, half, -1), -1);
  // -7 * 0.25 = -1.75: SRDHM -3.5 -> -3, RDBPOT -1.5 -> -2 (away from zero).
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(-7, half, -1), -2);
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(3, half, -1), 1);  // 0.75
  // Left shifts.
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(1000, half, 2), 2000);
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(1, half, 30), 1 << 29);
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(-1, half, 30), -(1 << 29));
  // Largest right shift.
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(kMax32, kMax32, -31), 1);
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(kMin32, kMax32, -31), -1);
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier(12345, 0, -5), 0);
  // ADD's variant is the same for shifts <= 0.
  EXPECT_EQ(mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp(5, half, -1), 2);
}

TEST(Requantize, MultiplyByQuantizedMultiplierAllShifts) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> mult(1 << 30, kMax32);
  int64_t checked = 0;
  for (int shift = -31; shift <= 30; ++shift) {
    const int left = std::max(shift, 0);
    // Values that do not overflow after the left shift (TFLite's domain).
    const int32_t lim = static_cast<int32_t>(kMax32 >> left);
    std::uniform_int_distribution<int32_t> x_dist(-lim, lim);
    for (int i = 0; i < 5000; ++i) {
      const int32_t m = (i % 10 == 0) ? (1 << 30) : (i % 10 == 1 ? kMax32 : mult(rng));
      const int32_t x = (i % 14 == 0) ? lim : (i % 14 == 7 ? -lim : x_dist(rng));
      const int32_t got = mcunet_multiply_by_quantized_multiplier(x, m, shift);
      ASSERT_EQ(got, MbqmOracle(x, m, shift)) << x << " " << m << " " << shift;
      // Double rounding stays within 1 of the exact product (and of the
      // single-rounding variant).
      const long double exact = static_cast<long double>(x) * m * std::ldexp(1.0L, shift - 31);
      ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), 1.0L) << x << " " << m << " " << shift;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 62 * 5000);
}

// ---- Host-side multiplier derivation ----------------------------------------

TEST(QuantizeMultiplier, TfliteRules) {
  using mcunet::QuantizedMultiplier;
  EXPECT_EQ(mcunet::QuantizeMultiplier(0.0), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(mcunet::QuantizeMultiplier(0.5), (QuantizedMultiplier{1 << 30, 0}));
  EXPECT_EQ(mcunet::QuantizeMultiplier(1.0), (QuantizedMultiplier{1 << 30, 1}));
  EXPECT_EQ(mcunet::QuantizeMultiplier(0.75), (QuantizedMultiplier{1610612736, 0}));
  EXPECT_EQ(mcunet::QuantizeMultiplier(3.0), (QuantizedMultiplier{1610612736, 2}));
  // q * 2^31 rounds up to 2^31: M = 2^30, shift + 1.
  EXPECT_EQ(mcunet::QuantizeMultiplier(1.0 - std::ldexp(1.0, -33)), (QuantizedMultiplier{1 << 30, 1}));
  // Exact tie q * 2^31 = 2^30 + 0.5 rounds away from zero.
  EXPECT_EQ(mcunet::QuantizeMultiplier(0.5 + std::ldexp(1.0, -32)), (QuantizedMultiplier{(1 << 30) + 1, 0}));
  // shift -31 is kept, < -31 flushes to zero.
  EXPECT_EQ(mcunet::QuantizeMultiplier(std::ldexp(1.0, -32)), (QuantizedMultiplier{1 << 30, -31}));
  EXPECT_EQ(mcunet::QuantizeMultiplier(std::ldexp(1.0, -33)), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(mcunet::QuantizeMultiplier(1e-12), (QuantizedMultiplier{0, 0}));
  EXPECT_THROW(mcunet::QuantizeMultiplier(-0.5), mcunet::InvalidInput);
  EXPECT_THROW(mcunet::QuantizeMultiplier(std::nan("")), mcunet::InvalidInput);
  EXPECT_THROW(mcunet::QuantizeMultiplier(INFINITY), mcunet::InvalidInput);
  EXPECT_THROW(mcunet::QuantizeMultiplierSmallerThanOneExp(1.0), mcunet::InvalidInput);
  EXPECT_EQ(mcunet::QuantizeMultiplierSmallerThanOneExp(0.25), (QuantizedMultiplier{1 << 30, -1}));
  // Random: M in [2^30, 2^31) and M * 2^(shift-31) within half an ulp of m.
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> mant(0.5, 1.0);
  std::uniform_int_distribution<int> ex(-30, 10);
  for (int i = 0; i < 10000; ++i) {
    const double m = std::ldexp(mant(rng), ex(rng));
    const QuantizedMultiplier q = mcunet::QuantizeMultiplier(m);
    ASSERT_GE(q.multiplier, 1 << 30);
    ASSERT_LE(std::fabs(std::ldexp(static_cast<double>(q.multiplier), q.shift - 31) - m),
              std::ldexp(0.5, q.shift - 31) * 1.0000001);
  }
}

TEST(QuantizeMultiplier, ConvActivationAddMean) {
  // Conv: (double)s_in * (double)s_w / (double)s_out.
  const float si = 0.0235f, sw = 0.0031f, so = 0.047f;
  const mcunet::QuantizedMultiplier q = mcunet::QuantizeConvMultiplier(si, sw, so);
  EXPECT_EQ(q, mcunet::QuantizeMultiplier(static_cast<double>(si) * static_cast<double>(sw) / static_cast<double>(so)));
  std::vector<int32_t> m, s;
  const std::vector<float> ws = {0.001f, 0.5f, 0.02f};
  mcunet::QuantizeConvMultipliers(si, ws, so, &m, &s);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1], mcunet::QuantizeConvMultiplier(si, 0.5f, so).multiplier);
  EXPECT_THROW(mcunet::QuantizeConvMultiplier(0.0f, sw, so), mcunet::InvalidInput);

  // Activation ranges.
  auto r6 = mcunet::QuantizedActivationRange(mcunet::Activation::kRelu6, 6.0f / 255.0f, -128);
  EXPECT_EQ(r6.min, -128);
  EXPECT_EQ(r6.max, 127);
  auto r = mcunet::QuantizedActivationRange(mcunet::Activation::kRelu6, 0.1f, 5);
  EXPECT_EQ(r.min, 5);
  EXPECT_EQ(r.max, 65);
  r = mcunet::QuantizedActivationRange(mcunet::Activation::kRelu, 0.1f, 5);
  EXPECT_EQ(r.min, 5);
  EXPECT_EQ(r.max, 127);
  r = mcunet::QuantizedActivationRange(mcunet::Activation::kNone, 0.1f, 5);
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, 127);

  // ADD: s1 = 0.5, s2 = 0.25, s_out = 1.
  const mcunet::AddQuantization a = mcunet::QuantizeAddParams(0.5f, 0.25f, 1.0f);
  EXPECT_EQ(a.left_shift, 20);
  EXPECT_EQ(a.input1, (mcunet::QuantizedMultiplier{1 << 30, 0}));
  EXPECT_EQ(a.input2, (mcunet::QuantizedMultiplier{1 << 30, -1}));
  EXPECT_EQ(a.output, (mcunet::QuantizedMultiplier{1 << 30, -19}));

  // MEAN fold, against TF-Lite Micro's formula written with CLZ.
  for (int64_t n : {1, 2, 3, 4, 7, 49, 64, 100, 196, 1000, 50176}) {
    for (float so2 : {0.01f, 0.05f, 0.3f, 4.0f}) {
      const mcunet::MeanQuantization mq = mcunet::QuantizeMeanParams(0.05f, 3, so2, -2, n);
      EXPECT_FALSE(mq.divide_only);
      const mcunet::QuantizedMultiplier base =
          mcunet::QuantizeMultiplier(static_cast<double>(0.05f) / static_cast<double>(so2));
      int shift = 63 - __builtin_clzll(static_cast<uint64_t>(n));
      shift = std::min(shift, 32);
      shift = std::min(shift, 31 + base.shift);
      const int32_t m2 = static_cast<int32_t>((static_cast<int64_t>(base.multiplier) << shift) / n);
      EXPECT_EQ(mq.folded.multiplier, m2) << n;
      EXPECT_EQ(mq.folded.shift, base.shift - shift) << n;
    }
  }
  EXPECT_TRUE(mcunet::QuantizeMeanParams(0.05f, 3, 0.05f, 3, 49).divide_only);
  EXPECT_FALSE(mcunet::QuantizeMeanParams(0.05f, 3, 0.05f, 4, 49).divide_only);
  EXPECT_THROW(mcunet::QuantizeMeanParams(0.05f, 3, 0.05f, 3, 0), mcunet::InvalidInput);
}

// ---- Hand-computed tiny kernels ---------------------------------------------

// Multiplier exactly 1.0.
const int32_t kOneM[8] = {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30};
const int32_t kOneS[8] = {1, 1, 1, 1, 1, 1, 1, 1};

mcunet_conv_params TinyParams(int32_t h, int32_t w, int32_t cin, int32_t cout, int32_t k, int32_t stride, int32_t pad,
                              int32_t oh, int32_t ow) {
  mcunet_conv_params p{};
  p.in_h = h;
  p.in_w = w;
  p.in_c = cin;
  p.out_h = oh;
  p.out_w = ow;
  p.out_c = cout;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = 1;
  p.pad_top = p.pad_left = pad;
  p.act_min = -128;
  p.act_max = 127;
  p.multiplier = kOneM;
  p.shift = kOneS;
  return p;
}

TEST(KernelsHand, Conv3x3SamePaddingCountsNeighbours) {
  // 3x3x1 input of ones (after the zero point), 3x3 kernel of ones, pad 1.
  mcunet_conv_params p = TinyParams(3, 3, 1, 1, 3, 1, 1, 3, 3);
  p.in_zp = 3;
  p.out_zp = -10;
  const Bytes in(9, 4);  // 4 - 3 = 1
  const Bytes w(9, 1);
  const Bytes expect = {-6, -4, -6, -4, -1, -4, -6, -4, -6};  // 4/6/9 neighbours - 10
  Bytes out(9), out2(9);
  mcunet_ref_conv2d_s8(&p, in.data(), w.data(), nullptr, out.data());
  EXPECT_EQ(out, expect);
  std::vector<int16_t> scratch(mcunet_conv2d_scratch_bytes(&p) / 2);
  mcunet_conv2d_s8(&p, in.data(), w.data(), nullptr, out2.data(), scratch.data());
  EXPECT_EQ(out2, expect);
  // Stride 2, two output channels, bias, ReLU-style clamp.
  mcunet_conv_params q = TinyParams(3, 3, 1, 2, 3, 2, 1, 2, 2);
  q.in_zp = 3;
  q.act_min = 0;
  const Bytes w2 = {1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  const int32_t bias[2] = {1, 2};
  Bytes o(8), o2(8);
  mcunet_ref_conv2d_s8(&q, in.data(), w2.data(), bias, o.data());
  EXPECT_EQ(o, (Bytes{5, 0, 5, 0, 5, 0, 5, 0}));  // corners: 4 taps; -4+2 clamps to 0
  mcunet_conv2d_s8(&q, in.data(), w2.data(), bias, o2.data(), scratch.data());
  EXPECT_EQ(o2, o);
}

TEST(KernelsHand, DepthwisePointwiseAddMeanPoolFc) {
  // Depthwise 3x3, 2 channels, pad 1: channel 0 weights +1, channel 1 -1.
  mcunet_conv_params d = TinyParams(2, 2, 2, 2, 3, 1, 1, 2, 2);
  const Bytes in = {1, 1, 2, 1, 3, 1, 4, 1};  // channel 0: 1 2 3 4, channel 1: all 1
  Bytes w(18);
  for (int t = 0; t < 9; ++t) {
    w[t * 2] = 1;
    w[t * 2 + 1] = -1;
  }
  Bytes out(8);
  mcunet_ref_depthwise_conv2d_s8(&d, in.data(), w.data(), nullptr, out.data());
  EXPECT_EQ(out, (Bytes{10, -4, 10, -4, 10, -4, 10, -4}));
  Bytes buf = in, scratch(4);
  mcunet_depthwise_conv_s8_inplace(&d, buf.data(), w.data(), nullptr, scratch.data());
  EXPECT_EQ(buf, out);

  // Pointwise: pixel [1, 2], weights [[1, 1], [2, -1]], bias [1, -1].
  mcunet_conv_params pw = TinyParams(1, 1, 2, 2, 1, 1, 0, 1, 1);
  const Bytes px = {1, 2}, pww = {1, 1, 2, -1};
  const int32_t pwb[2] = {1, -1};
  Bytes po(2), st(mcunet_pointwise_scratch_bytes(&pw));
  mcunet_ref_conv2d_s8(&pw, px.data(), pww.data(), pwb, po.data());
  EXPECT_EQ(po, (Bytes{4, -1}));
  mcunet_pointwise_conv_s8(&pw, px.data(), pww.data(), pwb, po.data(), st.data(), MCUNET_ORDER_FORWARD);
  EXPECT_EQ(po, (Bytes{4, -1}));

  // ADD with unit scales: 3 + 4 = 7, -100 + -100 clamps to -128.
  const mcunet::AddQuantization aq = mcunet::QuantizeAddParams(1.0f, 1.0f, 1.0f);
  mcunet_add_params ap{};
  ap.size = 2;
  ap.left_shift = aq.left_shift;
  ap.in1_multiplier = aq.input1.multiplier;
  ap.in1_shift = aq.input1.shift;
  ap.in2_multiplier = aq.input2.multiplier;
  ap.in2_shift = aq.input2.shift;
  ap.out_multiplier = aq.output.multiplier;
  ap.out_shift = aq.output.shift;
  ap.act_min = -128;
  ap.act_max = 127;
  const Bytes a1 = {3, -100}, a2 = {4, -100};
  Bytes ao(2);
  mcunet_ref_add_s8(&ap, a1.data(), a2.data(), ao.data());
  EXPECT_EQ(ao, (Bytes{7, -128}));

  // MEAN: divide-only truncates toward zero; requantising path rounds.
  mcunet_mean_params mp{};
  mp.in_h = 2;
  mp.in_w = 2;
  mp.c = 1;
  mp.divide_only = 1;
  const Bytes m1 = {1, 2, 3, 4}, m2 = {-1, -2, -3, -4};
  int8_t mo = 0;
  mcunet_ref_mean_s8(&mp, m1.data(), &mo);
  EXPECT_EQ(mo, 2);
  mcunet_ref_mean_s8(&mp, m2.data(), &mo);
  EXPECT_EQ(mo, -2);
  const mcunet::MeanQuantization mq = mcunet::QuantizeMeanParams(1.0f, 0, 0.5f, 0, 4);
  mp.divide_only = 0;
  mp.multiplier = mq.folded.multiplier;
  mp.shift = mq.folded.shift;
  mcunet_ref_mean_s8(&mp, m1.data(), &mo);
  EXPECT_EQ(mo, 5);  // mean 2.5 at scale 0.5
  mcunet_mean_s8(&mp, m1.data(), &mo);
  EXPECT_EQ(mo, 5);

  // AVERAGE_POOL 2x2 stride 2: (10 + 2) / 4 = 3 and (-10 - 2) / 4 = -3.
  mcunet_pool_params pp{};
  pp.in_h = pp.in_w = 2;
  pp.c = 1;
  pp.out_h = pp.out_w = 1;
  pp.kernel_h = pp.kernel_w = 2;
  pp.stride_h = pp.stride_w = 2;
  pp.act_min = -128;
  pp.act_max = 127;
  int8_t po1 = 0;
  EXPECT_EQ(mcunet_ref_avg_pool_s8(&pp, m1.data(), &po1), 0);
  EXPECT_EQ(po1, 3);
  EXPECT_EQ(mcunet_ref_avg_pool_s8(&pp, m2.data(), &po1), 0);
  EXPECT_EQ(po1, -3);
  pp.pad_top = 5;  // window entirely outside: TFLite's failure
  EXPECT_EQ(mcunet_ref_avg_pool_s8(&pp, m2.data(), &po1), -1);
  EXPECT_EQ(mcunet_avg_pool_s8(&pp, m2.data(), &po1), -1);

  // FULLY_CONNECTED: [1, 2, 3] x [[1, 0, -1], [2, 2, 2]] = [-2, 12].
  mcunet_fc_params fp{};
  fp.in_features = 3;
  fp.out_features = 2;
  fp.act_min = -128;
  fp.act_max = 127;
  fp.multiplier = kOneM;
  fp.shift = kOneS;
  const Bytes fi = {1, 2, 3}, fw = {1, 0, -1, 2, 2, 2};
  Bytes fo(2);
  mcunet_ref_fully_connected_s8(&fp, fi.data(), fw.data(), nullptr, fo.data());
  EXPECT_EQ(fo, (Bytes{-2, 12}));
  mcunet_fully_connected_s8(&fp, fi.data(), fw.data(), nullptr, fo.data());
  EXPECT_EQ(fo, (Bytes{-2, 12}));

  // QUANTIZE: half away from zero, clamp, NaN -> zero point.
  const float qf[] = {0.5f, -0.5f, 2.5f, -2.5f, 1000.0f, -1e30f, std::nanf(""), 0.49999997f};
  int8_t qo[8];
  mcunet_ref_quantize_f32_s8(qf, qo, 8, 1.0f, 0);
  EXPECT_EQ(Bytes(qo, qo + 8), (Bytes{1, -1, 3, -3, 127, -128, 0, 0}));
  mcunet_ref_quantize_f32_s8(qf, qo, 2, 0.5f, -3);
  EXPECT_EQ(qo[0], -2);
  EXPECT_EQ(qo[1], -4);
  float df[2];
  mcunet_ref_dequantize_s8_f32(qo, df, 2, 0.5f, -3);
  EXPECT_FLOAT_EQ(df[0], 0.5f);
  EXPECT_FLOAT_EQ(df[1], -0.5f);
}

// ---- Randomized: optimised == reference, byte for byte ----------------------

struct Rng {
  std::mt19937 g;
  explicit Rng(uint32_t seed) : g(seed) {}
  int32_t Int(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(g); }
  bool Coin(int percent) { return Int(0, 99) < percent; }
  Bytes Fill(size_t n, int32_t lo = -128, int32_t hi = 127) {
    Bytes v(n);
    for (auto& x : v) x = static_cast<int8_t>(Int(lo, hi));
    return v;
  }
  Bytes Weights(size_t n) { return Fill(n, -127, 127); }
  // Multipliers: mostly realistic (shift -12..-4), sometimes extreme.
  void Requant(int32_t* m, int32_t* s) {
    const int kind = Int(0, 9);
    if (kind == 0) {
      *m = 1 << 30;
      *s = Int(-31, 2);
    } else if (kind == 1) {
      *m = kMax32;
      *s = Int(-31, 2);
    } else if (kind == 2) {
      *m = Int(1 << 30, kMax32);
      *s = Int(-31, 1);
    } else {
      *m = Int(1 << 30, kMax32);
      *s = Int(-12, -4);
    }
  }
  template <typename T>  // int32_t, or int16_t (mcunet_conv_params)
  void ActRange(T* lo, T* hi) {
    *lo = -128;
    *hi = 127;
    if (Coin(30)) *lo = static_cast<T>(Int(-128, 20));
    if (Coin(30)) *hi = static_cast<T>(Int(*lo, 127));
  }
};

// A conv/depthwise case: params whose pointers refer into the vectors.
struct ConvCase {
  mcunet_conv_params p{};
  std::vector<int32_t> mult, shift, bias;
  Bytes input, weights;
  bool has_bias = true;
  void Finish(Rng& r, int32_t weight_count) {
    mult.resize(p.out_c);
    shift.resize(p.out_c);
    bias.resize(p.out_c);
    for (int32_t c = 0; c < p.out_c; ++c) {
      r.Requant(&mult[c], &shift[c]);
      bias[c] = r.Int(-(1 << 20), 1 << 20);
    }
    has_bias = r.Coin(85);
    p.multiplier = mult.data();
    p.shift = shift.data();
    p.in_zp = r.Coin(20) ? 0 : r.Int(-128, 127);
    p.out_zp = r.Coin(20) ? 0 : r.Int(-128, 127);
    r.ActRange(&p.act_min, &p.act_max);
    input = r.Fill(static_cast<size_t>(p.in_h) * p.in_w * p.in_c);
    weights = r.Weights(weight_count);
  }
  const int32_t* Bias() const { return has_bias ? bias.data() : nullptr; }
  size_t OutBytes() const { return static_cast<size_t>(p.out_h) * p.out_w * p.out_c; }
};

// Output size for a window of extent `eff_k` with the given pads.
int32_t OutSize(int32_t in, int32_t eff_k, int32_t stride, int32_t pad_before, int32_t pad_after) {
  const int32_t span = in + pad_before + pad_after - eff_k;
  return span < 0 ? 0 : span / stride + 1;
}

TEST(KernelsRandom, Conv2dIm2colEqualsReference) {
  Rng r(11);
  int cases = 0;
  while (cases < 600) {
    ConvCase c;
    mcunet_conv_params& p = c.p;
    const int32_t ks[] = {1, 2, 3, 5, 7};
    p.kernel_h = ks[r.Int(0, 4)];
    p.kernel_w = r.Coin(80) ? p.kernel_h : ks[r.Int(0, 4)];
    p.stride_h = r.Int(1, 3);
    p.stride_w = r.Coin(80) ? p.stride_h : r.Int(1, 3);
    p.dilation_h = r.Coin(85) ? 1 : 2;
    p.dilation_w = r.Coin(85) ? 1 : 2;
    p.in_h = r.Int(1, 13);
    p.in_w = r.Int(1, 13);
    p.in_c = r.Coin(70) ? r.Int(1, 4) : r.Int(5, 24);
    p.out_c = r.Int(1, 20);
    const int32_t eh = (p.kernel_h - 1) * p.dilation_h + 1, ew = (p.kernel_w - 1) * p.dilation_w + 1;
    p.pad_top = r.Int(0, eh - 1);
    p.pad_left = r.Int(0, ew - 1);
    p.out_h = OutSize(p.in_h, eh, p.stride_h, p.pad_top, r.Int(0, eh - 1));
    p.out_w = OutSize(p.in_w, ew, p.stride_w, p.pad_left, r.Int(0, ew - 1));
    if (p.out_h <= 0 || p.out_w <= 0) continue;
    c.Finish(r, p.out_c * p.kernel_h * p.kernel_w * p.in_c);
    Bytes ref(c.OutBytes()), opt(c.OutBytes());
    mcunet_ref_conv2d_s8(&p, c.input.data(), c.weights.data(), c.Bias(), ref.data());
    std::vector<int16_t> scratch(mcunet_conv2d_scratch_bytes(&p) / 2);  // exact, as planned
    ASSERT_EQ(mcunet_conv2d_scratch_bytes(&p), size_t{4} * p.kernel_h * p.kernel_w * p.in_c);
    mcunet_conv2d_s8(&p, c.input.data(), c.weights.data(), c.Bias(), opt.data(), scratch.data());
    ASSERT_EQ(ref, opt) << "case " << cases << " k" << p.kernel_h << "x" << p.kernel_w << " s" << p.stride_h
                        << " in " << p.in_h << "x" << p.in_w << "x" << p.in_c;
    ++cases;
  }
}

// The reference conv against float arithmetic: within 1 LSB before clamping.
TEST(KernelsRandom, ReferenceConvMatchesFloatMath) {
  Rng r(12);
  for (int t = 0; t < 100; ++t) {
    ConvCase c;
    mcunet_conv_params& p = c.p;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = r.Int(1, 2);
    p.dilation_h = p.dilation_w = 1;
    p.in_h = r.Int(3, 9);
    p.in_w = r.Int(3, 9);
    p.in_c = r.Int(1, 8);
    p.out_c = r.Int(1, 6);
    p.pad_top = p.pad_left = 1;
    p.out_h = OutSize(p.in_h, 3, p.stride_h, 1, 1);
    p.out_w = OutSize(p.in_w, 3, p.stride_w, 1, 1);
    c.Finish(r, p.out_c * 9 * p.in_c);
    p.act_min = -128;
    p.act_max = 127;
    const float s_in = 0.02f + 0.001f * r.Int(0, 50), s_out = 0.05f + 0.002f * r.Int(0, 50);
    std::vector<float> s_w(p.out_c);
    for (auto& s : s_w) s = 0.001f + 0.0001f * r.Int(0, 100);
    mcunet::QuantizeConvMultipliers(s_in, s_w, s_out, &c.mult, &c.shift);
    p.multiplier = c.mult.data();
    p.shift = c.shift.data();
    Bytes out(c.OutBytes());
    mcunet_ref_conv2d_s8(&p, c.input.data(), c.weights.data(), c.Bias(), out.data());
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        for (int32_t oc = 0; oc < p.out_c; ++oc) {
          int64_t acc = c.has_bias ? c.bias[oc] : 0;
          for (int32_t ky = 0; ky < 3; ++ky) {
            for (int32_t kx = 0; kx < 3; ++kx) {
              const int32_t iy = oy * p.stride_h - 1 + ky, ix = ox * p.stride_w - 1 + kx;
              if (iy < 0 || ix < 0 || iy >= p.in_h || ix >= p.in_w) continue;
              for (int32_t ic = 0; ic < p.in_c; ++ic) {
                acc += static_cast<int64_t>(c.weights[((oc * 3 + ky) * 3 + kx) * p.in_c + ic]) *
                       (c.input[(iy * p.in_w + ix) * p.in_c + ic] - p.in_zp);
              }
            }
          }
          const double real = static_cast<double>(acc) * s_in * s_w[oc] / s_out + p.out_zp;
          const double expect = std::min(127.0, std::max(-128.0, std::round(real)));
          ASSERT_LE(std::fabs(out[(oy * p.out_w + ox) * p.out_c + oc] - expect), 1.0);
        }
      }
    }
  }
}

ConvCase RandomPointwise(Rng& r, int32_t n_max, int32_t c_max) {
  ConvCase c;
  mcunet_conv_params& p = c.p;
  p.kernel_h = p.kernel_w = 1;
  p.stride_h = p.stride_w = 1;
  p.dilation_h = p.dilation_w = 1;
  const int32_t n = r.Int(1, n_max);
  // A pixel grid of n pixels: h x w with h * w == n.
  p.in_h = 1;
  for (int32_t d = 2; d * d <= n; ++d) {
    if (n % d == 0 && r.Coin(50)) p.in_h = d;
  }
  p.in_w = n / p.in_h;
  p.out_h = p.in_h;
  p.out_w = p.in_w;
  p.in_c = r.Int(1, c_max);
  p.out_c = r.Int(1, c_max);
  c.Finish(r, p.out_c * p.in_c);
  return c;
}

TEST(KernelsRandom, PointwiseDisjointEqualsReference) {
  Rng r(13);
  for (int t = 0; t < 400; ++t) {
    ConvCase c = RandomPointwise(r, 64, 48);
    Bytes ref(c.OutBytes());
    mcunet_ref_conv2d_s8(&c.p, c.input.data(), c.weights.data(), c.Bias(), ref.data());
    for (int32_t order : {MCUNET_ORDER_FORWARD, MCUNET_ORDER_REVERSE}) {
      Bytes opt(c.OutBytes()), scratch(mcunet_pointwise_scratch_bytes(&c.p));  // exact, as planned
      ASSERT_EQ(scratch.size(), size_t{4} * c.p.in_c);
      mcunet_pointwise_conv_s8(&c.p, c.input.data(), c.weights.data(), c.Bias(), opt.data(), scratch.data(), order);
      ASSERT_EQ(ref, opt) << "case " << t << " order " << order;
    }
  }
}

// The tinyengine planner's condition (mcunet::PointwiseOverlapSafe in
// include/mcunet/passes.h), restated so this test needs only the runtime.
bool PlannerAllowsPointwise(bool forward, int64_t in, int64_t out, int64_t a, int64_t b, int64_t n) {
  if (n <= 1) return true;
  if (out >= in + a * n || out + b * n <= in) return true;
  const int64_t d = out - in;
  if (forward) return d <= (a >= b ? (a - b) : (a - b) * (n - 1));
  return d >= (a <= b ? (a - b) : (a - b) * (n - 1));
}

// Runs a pointwise conv with input at arena[base] and output at
// arena[base + d] in one exact-size arena; checks the output equals the
// non-overlapping reference and that no byte outside the output changed.
void CheckOverlappedPointwise(const ConvCase& c, int32_t order, int64_t d, Rng& r) {
  const int64_t n = static_cast<int64_t>(c.p.in_h) * c.p.in_w;
  const int64_t a = c.p.in_c, b = c.p.out_c;
  const int64_t lo = std::min<int64_t>(0, d), hi = std::max<int64_t>(a * n, d + b * n);
  Bytes arena = r.Fill(static_cast<size_t>(hi - lo));
  int8_t* in = arena.data() - lo;
  int8_t* out = in + d;
  std::memcpy(in, c.input.data(), static_cast<size_t>(a * n));
  const Bytes before = arena;
  Bytes ref(c.OutBytes()), scratch(mcunet_pointwise_scratch_bytes(&c.p));
  mcunet_ref_conv2d_s8(&c.p, c.input.data(), c.weights.data(), c.Bias(), ref.data());
  mcunet_pointwise_conv_s8(&c.p, in, c.weights.data(), c.Bias(), out, scratch.data(), order);
  ASSERT_EQ(Bytes(out, out + b * n), ref) << "a=" << a << " b=" << b << " n=" << n << " d=" << d << " order=" << order;
  for (int64_t i = 0; i < static_cast<int64_t>(arena.size()); ++i) {
    const int64_t rel = i + lo - d;  // position relative to the output start
    if (rel >= 0 && rel < b * n) continue;
    ASSERT_EQ(arena[i], before[i]) << "byte outside the output changed, d=" << d;
  }
}

TEST(KernelsRandom, PointwiseOverlapEveryAllowedOffset) {
  Rng r(14);
  int64_t overlapped = 0, disjoint = 0;
  for (int t = 0; t < 300; ++t) {
    ConvCase c = RandomPointwise(r, 7, 9);
    const int64_t n = static_cast<int64_t>(c.p.in_h) * c.p.in_w;
    const int64_t a = c.p.in_c, b = c.p.out_c;
    for (int32_t order : {MCUNET_ORDER_FORWARD, MCUNET_ORDER_REVERSE}) {
      for (int64_t d = -b * n - 1; d <= a * n + 1; ++d) {
        if (!PlannerAllowsPointwise(order == MCUNET_ORDER_FORWARD, 0, d, a, b, n)) continue;
        const bool overlaps = d < a * n && d + b * n > 0;
        (overlaps ? overlapped : disjoint) += 1;
        CheckOverlappedPointwise(c, order, d, r);
        if (HasFatalFailure()) return;
      }
    }
  }
  EXPECT_GT(overlapped, 1000);
  RecordProperty("overlapped_runs", static_cast<int>(overlapped));
  RecordProperty("disjoint_runs", static_cast<int>(disjoint));
}

// The placements the planner actually emits, on MCUNet-sized layers: output
// aligned to the input's start (projection forward, expansion reverse) or to
// its end (the other way round).
TEST(KernelsRandom, PointwiseOverlapPlannerPlacements) {
  Rng r(15);
  struct Shape {
    int32_t h, w, a, b;
  };
  const Shape shapes[] = {{7, 7, 96, 16}, {7, 7, 16, 96}, {12, 12, 48, 8}, {12, 12, 8, 48},
                          {5, 5, 40, 40}, {1, 1, 32, 8},  {3, 5, 24, 144}, {3, 5, 144, 24}};
  for (const Shape& s : shapes) {
    for (int rep = 0; rep < 3; ++rep) {
      ConvCase c;
      c.p.kernel_h = c.p.kernel_w = c.p.stride_h = c.p.stride_w = c.p.dilation_h = c.p.dilation_w = 1;
      c.p.in_h = c.p.out_h = s.h;
      c.p.in_w = c.p.out_w = s.w;
      c.p.in_c = s.a;
      c.p.out_c = s.b;
      c.Finish(r, s.a * s.b);
      const int64_t n = static_cast<int64_t>(s.h) * s.w;
      const bool projection = s.a >= s.b;
      const int64_t start = 0, end = (int64_t{s.a} - s.b) * n;
      const int32_t start_order = projection ? MCUNET_ORDER_FORWARD : MCUNET_ORDER_REVERSE;
      const int32_t end_order = projection ? MCUNET_ORDER_REVERSE : MCUNET_ORDER_FORWARD;
      ASSERT_TRUE(PlannerAllowsPointwise(start_order == MCUNET_ORDER_FORWARD, 0, start, s.a, s.b, n));
      ASSERT_TRUE(PlannerAllowsPointwise(end_order == MCUNET_ORDER_FORWARD, 0, end, s.a, s.b, n));
      CheckOverlappedPointwise(c, start_order, start, r);
      CheckOverlappedPointwise(c, end_order, end, r);
    }
  }
}

ConvCase RandomDepthwise(Rng& r, int32_t k, int32_t s, bool generic) {
  ConvCase c;
  mcunet_conv_params& p = c.p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.dilation_h = p.dilation_w = 1;
  if (generic && r.Coin(40)) p.kernel_w = r.Int(1, 4);
  if (generic && r.Coin(30)) p.stride_w = r.Int(1, 3);
  if (generic && r.Coin(30)) p.dilation_h = 2;
  if (generic && r.Coin(30)) p.dilation_w = 2;
  p.in_h = r.Int(1, 15);
  p.in_w = r.Int(1, 15);
  p.in_c = p.out_c = r.Coin(70) ? r.Int(1, 24) : r.Int(25, 70);
  const int32_t eh = (p.kernel_h - 1) * p.dilation_h + 1, ew = (p.kernel_w - 1) * p.dilation_w + 1;
  if (r.Coin(60)) {  // TFLite SAME padding
    const int32_t oh = (p.in_h + p.stride_h - 1) / p.stride_h, ow = (p.in_w + p.stride_w - 1) / p.stride_w;
    const int32_t th = std::max(0, (oh - 1) * p.stride_h + eh - p.in_h);
    const int32_t tw = std::max(0, (ow - 1) * p.stride_w + ew - p.in_w);
    p.pad_top = th / 2;
    p.pad_left = tw / 2;
    p.out_h = oh;
    p.out_w = ow;
  } else {
    p.pad_top = r.Int(0, eh - 1);
    p.pad_left = r.Int(0, ew - 1);
    p.out_h = OutSize(p.in_h, eh, p.stride_h, p.pad_top, r.Int(0, eh - 1));
    p.out_w = OutSize(p.in_w, ew, p.stride_w, p.pad_left, r.Int(0, ew - 1));
  }
  c.Finish(r, p.kernel_h * p.kernel_w * p.out_c);
  return c;
}

using DwFn = void (*)(const mcunet_conv_params*, const int8_t*, const int8_t*, const int32_t*, int8_t*);
using DwInPlaceFn = void (*)(const mcunet_conv_params*, int8_t*, const int8_t*, const int32_t*, int8_t*);

void CheckDepthwise(const ConvCase& c, DwFn out_of_place, DwInPlaceFn in_place, int* in_place_runs) {
  const mcunet_conv_params& p = c.p;
  Bytes ref(c.OutBytes()), opt(c.OutBytes());
  mcunet_ref_depthwise_conv2d_s8(&p, c.input.data(), c.weights.data(), c.Bias(), ref.data());
  out_of_place(&p, c.input.data(), c.weights.data(), c.Bias(), opt.data());
  ASSERT_EQ(ref, opt) << "out of place: k" << p.kernel_h << "x" << p.kernel_w << " s" << p.stride_h << "," << p.stride_w
                      << " in " << p.in_h << "x" << p.in_w << "x" << p.in_c << " pad " << p.pad_top << ","
                      << p.pad_left << " out " << p.out_h << "x" << p.out_w;
  if (static_cast<int64_t>(p.out_h) * p.out_w > static_cast<int64_t>(p.in_h) * p.in_w) return;  // not in-place-able
  // In place on one exact-size buffer (the input tensor's bytes) with exactly
  // out_h * out_w bytes of scratch.
  Bytes buffer = c.input;
  Bytes scratch(static_cast<size_t>(p.out_h) * p.out_w);
  in_place(&p, buffer.data(), c.weights.data(), c.Bias(), scratch.data());
  ASSERT_EQ(Bytes(buffer.begin(), buffer.begin() + ref.size()), ref)
      << "in place: k" << p.kernel_h << " s" << p.stride_h << " in " << p.in_h << "x" << p.in_w << "x" << p.in_c;
  // Bytes past the output are untouched (still the input's).
  ASSERT_TRUE(std::equal(buffer.begin() + ref.size(), buffer.end(), c.input.begin() + ref.size()));
  ++*in_place_runs;
}

TEST(KernelsRandom, DepthwiseSpecialisedEqualsReference) {
  struct Variant {
    int32_t k, s;
    DwFn fn;
    DwInPlaceFn inplace;
  };
  const Variant variants[] = {
      {3, 1, mcunet_depthwise_conv_s8_k3s1, mcunet_depthwise_conv_s8_inplace_k3s1},
      {3, 2, mcunet_depthwise_conv_s8_k3s2, mcunet_depthwise_conv_s8_inplace_k3s2},
      {5, 1, mcunet_depthwise_conv_s8_k5s1, mcunet_depthwise_conv_s8_inplace_k5s1},
      {5, 2, mcunet_depthwise_conv_s8_k5s2, mcunet_depthwise_conv_s8_inplace_k5s2},
      {7, 1, mcunet_depthwise_conv_s8_k7s1, mcunet_depthwise_conv_s8_inplace_k7s1},
      {7, 2, mcunet_depthwise_conv_s8_k7s2, mcunet_depthwise_conv_s8_inplace_k7s2},
  };
  Rng r(16);
  int runs = 0, in_place_runs = 0;
  for (const Variant& v : variants) {
    for (int t = 0; t < 150; ++t) {
      ConvCase c = RandomDepthwise(r, v.k, v.s, false);
      if (c.p.out_h <= 0 || c.p.out_w <= 0) continue;
      CheckDepthwise(c, v.fn, v.inplace, &in_place_runs);
      if (HasFatalFailure()) return;
      // The dispatchers pick the same specialisation.
      CheckDepthwise(c, mcunet_depthwise_conv_s8, mcunet_depthwise_conv_s8_inplace, &in_place_runs);
      if (HasFatalFailure()) return;
      ++runs;
    }
  }
  EXPECT_GT(runs, 800);
  EXPECT_GT(in_place_runs, 1200);
  RecordProperty("runs", runs);
  RecordProperty("in_place_runs", in_place_runs);
}

TEST(KernelsRandom, DepthwiseGenericFallbackEqualsReference) {
  Rng r(17);
  int runs = 0, in_place_runs = 0;
  for (int t = 0; t < 500; ++t) {
    const int32_t ks[] = {1, 2, 3, 4, 5, 7, 9};
    ConvCase c = RandomDepthwise(r, ks[r.Int(0, 6)], r.Int(1, 3), true);
    if (c.p.out_h <= 0 || c.p.out_w <= 0) continue;
    CheckDepthwise(c, mcunet_depthwise_conv_s8, mcunet_depthwise_conv_s8_inplace, &in_place_runs);
    if (HasFatalFailure()) return;
    ++runs;
  }
  EXPECT_GT(runs, 400);
}

// MCUNet-sized in-place depthwise layers.
TEST(KernelsRandom, DepthwiseInPlaceMcunetShapes) {
  Rng r(18);
  int in_place_runs = 0;
  struct L {
    int32_t hw, c, k, s;
  };
  const L layers[] = {{80, 16, 3, 1}, {80, 48, 7, 2}, {40, 72, 5, 1}, {20, 120, 7, 2}, {10, 240, 3, 1}, {5, 480, 5, 1}};
  for (const L& l : layers) {
    ConvCase c;
    mcunet_conv_params& p = c.p;
    p.in_h = p.in_w = l.hw;
    p.in_c = p.out_c = l.c;
    p.kernel_h = p.kernel_w = l.k;
    p.stride_h = p.stride_w = l.s;
    p.dilation_h = p.dilation_w = 1;
    p.out_h = p.out_w = (l.hw + l.s - 1) / l.s;
    const int32_t total = std::max(0, (p.out_h - 1) * l.s + l.k - l.hw);
    p.pad_top = p.pad_left = total / 2;
    c.Finish(r, l.k * l.k * l.c);
    CheckDepthwise(c, mcunet_depthwise_conv_s8, mcunet_depthwise_conv_s8_inplace, &in_place_runs);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(in_place_runs, 6);
}

mcunet_add_params RandomAdd(Rng& r, int32_t size) {
  const float s1 = 0.005f + 0.001f * r.Int(0, 200), s2 = 0.005f + 0.001f * r.Int(0, 200);
  const float so = 0.005f + 0.001f * r.Int(0, 300);
  const mcunet::AddQuantization q = mcunet::QuantizeAddParams(s1, s2, so);
  mcunet_add_params p{};
  p.size = size;
  p.in1_zp = r.Int(-128, 127);
  p.in2_zp = r.Int(-128, 127);
  p.out_zp = r.Int(-128, 127);
  p.left_shift = q.left_shift;
  p.in1_multiplier = q.input1.multiplier;
  p.in1_shift = q.input1.shift;
  p.in2_multiplier = q.input2.multiplier;
  p.in2_shift = q.input2.shift;
  p.out_multiplier = q.output.multiplier;
  p.out_shift = q.output.shift;
  r.ActRange(&p.act_min, &p.act_max);
  return p;
}

TEST(KernelsRandom, AddInPlaceEqualsReference) {
  Rng r(19);
  for (int t = 0; t < 300; ++t) {
    const int32_t size = r.Int(1, 3000);
    const mcunet_add_params p = RandomAdd(r, size);
    const Bytes a = r.Fill(size), b = r.Fill(size);
    Bytes ref(size), opt(size);
    mcunet_ref_add_s8(&p, a.data(), b.data(), ref.data());
    mcunet_add_s8(&p, a.data(), b.data(), opt.data());
    ASSERT_EQ(ref, opt);
    Bytes in1 = a;  // output over input 1
    mcunet_add_s8(&p, in1.data(), b.data(), in1.data());
    ASSERT_EQ(in1, ref);
    Bytes in2 = b;  // output over input 2
    mcunet_add_s8(&p, a.data(), in2.data(), in2.data());
    ASSERT_EQ(in2, ref);
    // x + x in place.
    Bytes self = a, self_ref(size);
    mcunet_ref_add_s8(&p, a.data(), a.data(), self_ref.data());
    mcunet_add_s8(&p, self.data(), self.data(), self.data());
    ASSERT_EQ(self, self_ref);
  }
}

TEST(KernelsRandom, AddMatchesFloatMath) {
  Rng r(20);
  for (int t = 0; t < 200; ++t) {
    const float s1 = 0.01f + 0.001f * r.Int(0, 100), s2 = 0.01f + 0.001f * r.Int(0, 100);
    const float so = 0.02f + 0.001f * r.Int(0, 100);
    const mcunet::AddQuantization q = mcunet::QuantizeAddParams(s1, s2, so);
    mcunet_add_params p{};
    p.size = 256;
    p.in1_zp = r.Int(-20, 20);
    p.in2_zp = r.Int(-20, 20);
    p.out_zp = r.Int(-20, 20);
    p.left_shift = q.left_shift;
    p.in1_multiplier = q.input1.multiplier;
    p.in1_shift = q.input1.shift;
    p.in2_multiplier = q.input2.multiplier;
    p.in2_shift = q.input2.shift;
    p.out_multiplier = q.output.multiplier;
    p.out_shift = q.output.shift;
    p.act_min = -128;
    p.act_max = 127;
    const Bytes a = r.Fill(256), b = r.Fill(256);
    Bytes out(256);
    mcunet_ref_add_s8(&p, a.data(), b.data(), out.data());
    for (int i = 0; i < 256; ++i) {
      const double real = (a[i] - p.in1_zp) * static_cast<double>(s1) + (b[i] - p.in2_zp) * static_cast<double>(s2);
      const double expect = std::min(127.0, std::max(-128.0, std::round(real / so) + p.out_zp));
      ASSERT_LE(std::fabs(out[i] - expect), 1.0);
    }
  }
}

TEST(KernelsRandom, MeanEqualsReferenceAndFloat) {
  Rng r(21);
  for (int t = 0; t < 300; ++t) {
    mcunet_mean_params p{};
    p.in_h = r.Int(1, 14);
    p.in_w = r.Int(1, 14);
    p.c = r.Int(1, 100);
    const float si = 0.01f + 0.001f * r.Int(0, 100);
    const float so = r.Coin(25) ? si : 0.005f + 0.001f * r.Int(0, 100);
    p.in_zp = r.Int(-128, 127);
    p.out_zp = (so == si && r.Coin(70)) ? p.in_zp : r.Int(-128, 127);
    const int32_t n = p.in_h * p.in_w;
    const mcunet::MeanQuantization q = mcunet::QuantizeMeanParams(si, p.in_zp, so, p.out_zp, n);
    p.divide_only = q.divide_only ? 1 : 0;
    p.multiplier = q.folded.multiplier;
    p.shift = q.folded.shift;
    const Bytes in = r.Fill(static_cast<size_t>(n) * p.c);
    Bytes ref(p.c), opt(p.c);
    mcunet_ref_mean_s8(&p, in.data(), ref.data());
    mcunet_mean_s8(&p, in.data(), opt.data());
    ASSERT_EQ(ref, opt);
    for (int32_t c = 0; c < p.c; ++c) {
      double sum = 0;
      for (int32_t i = 0; i < n; ++i) sum += in[i * p.c + c] - p.in_zp;
      const double expect =
          std::min(127.0, std::max(-128.0, std::round(sum / n * si / so) + p.out_zp));
      ASSERT_LE(std::fabs(ref[c] - expect), 1.0) << "divide_only=" << p.divide_only;
    }
  }
}

TEST(KernelsRandom, AvgPoolEqualsReference) {
  Rng r(22);
  int runs = 0;
  while (runs < 300) {
    mcunet_pool_params p{};
    p.in_h = r.Int(1, 12);
    p.in_w = r.Int(1, 12);
    p.c = r.Int(1, 40);
    p.kernel_h = r.Int(1, 5);
    p.kernel_w = r.Int(1, 5);
    p.stride_h = r.Int(1, 3);
    p.stride_w = r.Int(1, 3);
    p.pad_top = r.Int(0, p.kernel_h - 1);
    p.pad_left = r.Int(0, p.kernel_w - 1);
    p.out_h = OutSize(p.in_h, p.kernel_h, p.stride_h, p.pad_top, r.Int(0, p.kernel_h - 1));
    p.out_w = OutSize(p.in_w, p.kernel_w, p.stride_w, p.pad_left, r.Int(0, p.kernel_w - 1));
    if (p.out_h <= 0 || p.out_w <= 0) continue;
    r.ActRange(&p.act_min, &p.act_max);
    const Bytes in = r.Fill(static_cast<size_t>(p.in_h) * p.in_w * p.c);
    Bytes ref(static_cast<size_t>(p.out_h) * p.out_w * p.c), opt(ref.size());
    const int rr = mcunet_ref_avg_pool_s8(&p, in.data(), ref.data());
    const int ro = mcunet_avg_pool_s8(&p, in.data(), opt.data());
    ASSERT_EQ(rr, ro);
    if (rr == 0) {
      ASSERT_EQ(ref, opt);
    }
    ++runs;
  }
}

TEST(KernelsRandom, FullyConnectedEqualsReference) {
  Rng r(23);
  for (int t = 0; t < 300; ++t) {
    mcunet_fc_params p{};
    p.in_features = r.Int(1, 600);
    p.out_features = r.Int(1, 40);
    p.in_zp = r.Int(-128, 127);
    p.out_zp = r.Int(-128, 127);
    p.per_channel = r.Coin(50) ? 1 : 0;
    std::vector<int32_t> m(p.out_features), s(p.out_features), bias(p.out_features);
    for (int32_t o = 0; o < p.out_features; ++o) {
      r.Requant(&m[o], &s[o]);
      bias[o] = r.Int(-(1 << 20), 1 << 20);
    }
    p.multiplier = m.data();
    p.shift = s.data();
    r.ActRange(&p.act_min, &p.act_max);
    const Bytes in = r.Fill(p.in_features), w = r.Weights(static_cast<size_t>(p.in_features) * p.out_features);
    Bytes ref(p.out_features), opt(p.out_features);
    const int32_t* b = r.Coin(80) ? bias.data() : nullptr;
    mcunet_ref_fully_connected_s8(&p, in.data(), w.data(), b, ref.data());
    mcunet_fully_connected_s8(&p, in.data(), w.data(), b, opt.data());
    ASSERT_EQ(ref, opt);
  }
}

}  // namespace
