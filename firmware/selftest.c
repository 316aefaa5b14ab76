/* mcunet kernel self-test firmware (MCUNET_APP=selftest): runs the kernels
 * the generated code calls (kernels_opt.c; on Cortex-M4/M7 its Armv7E-M DSP
 * paths unless MCUNET_KERNELS=portable) against the TFLite reference kernels
 * (kernels_ref.c) on pseudo-random cases, byte for byte, including the
 * overlapped pointwise orders at every offset extreme the tinyengine planner
 * allows and in-place depthwise 3/5/7 stride 1/2.
 *
 * Output: "selftest_cases N", "selftest_failures M", the first failure, and
 * "status S" (0 all equal, 1 some differ). */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "mcunet_kernels.h"

#define ARENA 24576
#define BASE 8192
static int8_t st_arena[ARENA] __attribute__((section(".bss.st_arena"), aligned(4)));
static int8_t st_scratch[4096] __attribute__((section(".bss.st_scratch"), aligned(4)));
static int8_t ref_in[4096], ref_out[8192];
static int8_t weights[49152];
static int32_t bias[512], mult[512], shift[512];
static int8_t shift8[512];
static uint32_t param_sets;

static uint32_t rng = 1u;
static uint32_t next(void) {
  rng = rng * 1664525u + 1013904223u;
  return rng >> 8;
}
static int32_t rand_range(int32_t lo, int32_t hi) { return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1)); }
static void fill(int8_t* p, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) p[i] = (int8_t)next();
}

static uint32_t cases, failures;
static void check(const char* what, int32_t id, const int8_t* got, const int8_t* want, int32_t n) {
  ++cases;
  if (memcmp(got, want, (size_t)n) != 0) {
    if (failures == 0) {
      con_puts("selftest_first_failure ");
      con_puts(what);
      con_puts(" case ");
      con_put_int(id);
      con_newline();
    }
    ++failures;
  }
}

static void random_params(mcunet_conv_params* p, int32_t out_c, int with_bias) {
  int32_t i;
  p->in_zp = rand_range(-128, 127);
  p->out_zp = rand_range(-128, 127);
  p->act_min = rand_range(0, 3) == 0 ? rand_range(-128, 0) : -128;
  p->act_max = rand_range(0, 3) == 0 ? rand_range(0, 127) : 127;
  for (i = 0; i < out_c; ++i) {
    mult[i] = (int32_t)(0x40000000u + (next() << 6 & 0x3FFFFFFFu));
    shift[i] = rand_range(-12, 1);
    shift8[i] = (int8_t)shift[i];
    bias[i] = with_bias ? rand_range(-3000, 3000) : 0;
  }
  p->multiplier = mult;
  /* every other case with the int8 shifts of the generated code */
  p->shift = ++param_sets % 2 ? shift : 0;
  p->shift8 = p->shift ? 0 : shift8;
  p->dilation_h = p->dilation_w = 1;
}

/* Like vww1's layers: int8 shifts in [-31, -1] and the full int8 range (the
 * DSP kernels' SMMULR requantisation path); mostly [-13, -6], where random
 * int8 data give outputs inside the range, so an error of one in an
 * accumulator shows. */
static void force_generated_layout(mcunet_conv_params* p, int32_t out_c) {
  int32_t i;
  p->act_min = -128;
  p->act_max = 127;
  p->shift = 0;
  p->shift8 = shift8;
  for (i = 0; i < out_c; ++i) shift8[i] = (int8_t)(i % 4 == 3 ? rand_range(-31, -1) : rand_range(-13, -6));
}

/* 1x1 conv over n pixels, in at BASE, out at BASE + d, in `order`. */
static void pointwise_case(int32_t id, int32_t n, int32_t a, int32_t b, int32_t order, int32_t d) {
  mcunet_conv_params p;
  const int with_bias = id % 5 != 0;
  memset(&p, 0, sizeof p);
  p.in_h = 1;
  p.in_w = n;
  p.in_c = a;
  p.out_h = 1;
  p.out_w = n;
  p.out_c = b;
  p.kernel_h = p.kernel_w = p.stride_h = p.stride_w = 1;
  random_params(&p, b, with_bias);
  if (id % 3 == 0) {
    force_generated_layout(&p, b);
    /* the generated code's pointwise convs: input zero point folded into the bias */
    if (id % 2 == 0) p.in_zp = 0;
  }
  fill(weights, a * b);
  fill(ref_in, n * a);
  mcunet_ref_conv2d_s8(&p, ref_in, weights, with_bias ? bias : 0, ref_out);
  fill(st_arena, ARENA);
  memcpy(st_arena + BASE, ref_in, (size_t)(n * a));
  mcunet_pointwise_conv_s8(&p, st_arena + BASE, weights, with_bias ? bias : 0, st_arena + BASE + d, st_scratch, order);
  check("pointwise", id, st_arena + BASE + d, ref_out, n * b);
}

static void pointwise_cases(void) {
  static const int16_t shapes[][3] = {{7, 8, 48},  {9, 48, 16}, {5, 16, 8},  {6, 24, 144}, {4, 144, 24},
                                      {3, 5, 7},   {8, 13, 6},  {2, 96, 480}, {5, 40, 40}, {1, 12, 3},
                                      {11, 4, 4},  {6, 3, 17},  {10, 20, 9}};
  int32_t s, id = 0;
  for (s = 0; s < (int32_t)(sizeof shapes / sizeof shapes[0]); ++s) {
    const int32_t n = shapes[s][0], a = shapes[s][1], b = shapes[s][2];
    const int32_t lo1 = (a - b) < 0 ? (a - b) * (n - 1) : (a - b); /* min_q (a-b) q, q = 1..n-1 */
    const int32_t hi1 = (a - b) < 0 ? (a - b) : (a - b) * (n - 1); /* max_q (a-b) q */
    const int32_t fwd_max = n > 1 ? lo1 : 0;
    const int32_t rev_min = n > 1 ? hi1 : 0;
    /* disjoint, then the overlap extremes and a few offsets inside them */
    pointwise_case(id++, n, a, b, MCUNET_ORDER_FORWARD, n * a + 3);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_REVERSE, -(n * b) - 5);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_FORWARD, fwd_max);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_FORWARD, fwd_max - 1);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_FORWARD, fwd_max - b - 2);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_REVERSE, rev_min);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_REVERSE, rev_min + 1);
    pointwise_case(id++, n, a, b, MCUNET_ORDER_REVERSE, rev_min + a + 3);
  }
}

/* TF SAME padding for stride s. */
static void same_pad(int32_t in, int32_t k, int32_t s, int16_t* out, int16_t* pad) {
  const int32_t o = (in + s - 1) / s;
  int32_t total = (o - 1) * s + k - in;
  if (total < 0) total = 0;
  *out = (int16_t)o;
  *pad = (int16_t)(total / 2);
}

static void depthwise_case(int32_t id, int32_t h, int32_t w, int32_t c, int32_t k, int32_t s, int valid) {
  mcunet_conv_params p;
  const int with_bias = id % 4 != 0;
  memset(&p, 0, sizeof p);
  p.in_h = h;
  p.in_w = w;
  p.in_c = c;
  p.out_c = c;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  if (valid) {
    p.out_h = (h - k) / s + 1;
    p.out_w = (w - k) / s + 1;
  } else {
    same_pad(h, k, s, &p.out_h, &p.pad_top);
    same_pad(w, k, s, &p.out_w, &p.pad_left);
  }
  random_params(&p, c, with_bias);
  if (id % 3 == 0) force_generated_layout(&p, c);
  fill(weights, k * k * c);
  fill(ref_in, h * w * c);
  mcunet_ref_depthwise_conv2d_s8(&p, ref_in, weights, with_bias ? bias : 0, ref_out);
  /* in place */
  fill(st_arena, ARENA);
  memcpy(st_arena + BASE, ref_in, (size_t)(h * w * c));
#define ST_DW(K, S)                                                                                   \
  if (k == K && s == S) {                                                                             \
    mcunet_depthwise_conv_s8_inplace_k##K##s##S(&p, st_arena + BASE, weights, with_bias ? bias : 0,   \
                                                st_scratch);                                          \
  }
  ST_DW(3, 1) ST_DW(3, 2) ST_DW(5, 1) ST_DW(5, 2) ST_DW(7, 1) ST_DW(7, 2)
  check("depthwise_inplace", id, st_arena + BASE, ref_out, p.out_h * p.out_w * c);
  /* generic in-place entry and out of place */
  memcpy(st_arena + BASE, ref_in, (size_t)(h * w * c));
  mcunet_depthwise_conv_s8_inplace(&p, st_arena + BASE, weights, with_bias ? bias : 0, st_scratch);
  check("depthwise_inplace_generic", id, st_arena + BASE, ref_out, p.out_h * p.out_w * c);
  memcpy(st_arena, ref_in, (size_t)(h * w * c));
  mcunet_depthwise_conv_s8(&p, st_arena, weights, with_bias ? bias : 0, st_arena + BASE);
  check("depthwise", id, st_arena + BASE, ref_out, p.out_h * p.out_w * c);
  /* the specialised out-of-place entries (what the generated code calls) */
  memcpy(st_arena, ref_in, (size_t)(h * w * c));
#define ST_DW_OOP(K, S)                                                                                \
  if (k == K && s == S) mcunet_depthwise_conv_s8_k##K##s##S(&p, st_arena, weights, with_bias ? bias : 0, \
                                                           st_arena + BASE);
  ST_DW_OOP(3, 1) ST_DW_OOP(3, 2) ST_DW_OOP(5, 1) ST_DW_OOP(5, 2) ST_DW_OOP(7, 1) ST_DW_OOP(7, 2)
  check("depthwise_k", id, st_arena + BASE, ref_out, p.out_h * p.out_w * c);
}

static void depthwise_cases(void) {
  /* {3, 100, 2}: rows wider than the vww1-sized ring (a wider ring on the
   * stack, the whole plane in it); {16, 100, 2}: the same rows, more than
   * 2K of them (the ring rotates); {2, 160, 2}: for K = 7 a ring over
   * DW_RING_MAX (the generic per-channel fallback). */
  static const int16_t shapes[][3] = {{5, 5, 3},  {7, 6, 5},  {10, 10, 8}, {3, 3, 4},  {12, 9, 2},   {8, 11, 3},
                                      {1, 1, 2},  {4, 44, 3}, {5, 60, 2},  {9, 29, 5}, {6, 14, 4},   {3, 100, 2},
                                      {16, 100, 2}, {2, 160, 2}};
  static const int8_t ks[3] = {3, 5, 7};
  int32_t si, ki, s, v, id = 0;
  for (si = 0; si < (int32_t)(sizeof shapes / sizeof shapes[0]); ++si)
    for (ki = 0; ki < 3; ++ki)
      for (s = 1; s <= 2; ++s)
        for (v = 0; v < 2; ++v) {
          if (v && (shapes[si][0] < ks[ki] || shapes[si][1] < ks[ki])) continue;
          depthwise_case(id++, shapes[si][0], shapes[si][1], shapes[si][2], ks[ki], s, v);
        }
}

static void conv_cases(void) {
  static const int8_t shapes[][6] = {/* h, w, in_c, out_c, k, s */
                                     {9, 9, 3, 16, 3, 2}, {8, 7, 3, 5, 3, 1}, {6, 6, 4, 7, 5, 2}, {5, 4, 1, 3, 3, 1}};
  const int32_t n_shapes = (int32_t)(sizeof shapes / sizeof shapes[0]);
  int32_t j;
  for (j = 0; j < 2 * n_shapes; ++j) {
    /* each shape twice: random parameters, then the generated code's layout */
    const int32_t i = j % n_shapes;
    mcunet_conv_params p;
    memset(&p, 0, sizeof p);
    p.in_h = shapes[i][0];
    p.in_w = shapes[i][1];
    p.in_c = shapes[i][2];
    p.out_c = shapes[i][3];
    p.kernel_h = p.kernel_w = shapes[i][4];
    p.stride_h = p.stride_w = shapes[i][5];
    same_pad(p.in_h, p.kernel_h, p.stride_h, &p.out_h, &p.pad_top);
    same_pad(p.in_w, p.kernel_w, p.stride_w, &p.out_w, &p.pad_left);
    random_params(&p, p.out_c, i != 1);
    if (j >= n_shapes) force_generated_layout(&p, p.out_c);
    fill(weights, p.kernel_h * p.kernel_w * p.in_c * p.out_c);
    fill(ref_in, p.in_h * p.in_w * p.in_c);
    mcunet_ref_conv2d_s8(&p, ref_in, weights, i != 1 ? bias : 0, ref_out);
    mcunet_conv2d_s8(&p, ref_in, weights, i != 1 ? bias : 0, st_arena, (int16_t*)(void*)st_scratch);
    check("conv2d", j, st_arena, ref_out, p.out_h * p.out_w * p.out_c);
  }
}

static void add_cases(void) {
  int32_t i;
  for (i = 0; i < 40; ++i) {
    mcunet_add_params p;
    const int32_t n = rand_range(1, 700);
    int8_t* a = st_arena + BASE;
    int8_t* b = st_arena + BASE + 1024;
    p.size = n;
    p.in1_zp = rand_range(-128, 127);
    p.in2_zp = rand_range(-128, 127);
    p.out_zp = rand_range(-128, 127);
    p.left_shift = 20;
    p.in1_multiplier = (int32_t)(0x40000000u + (next() << 6 & 0x3FFFFFFFu));
    p.in2_multiplier = (int32_t)(0x40000000u + (next() << 6 & 0x3FFFFFFFu));
    p.out_multiplier = (int32_t)(0x40000000u + (next() << 6 & 0x3FFFFFFFu));
    p.in1_shift = rand_range(-6, 0);
    p.in2_shift = rand_range(-6, 0);
    p.out_shift = rand_range(-26, -12);
    p.act_min = i % 3 == 0 ? rand_range(-128, 0) : -128;
    p.act_max = i % 4 == 0 ? rand_range(0, 127) : 127;
    fill(a, n);
    fill(b, n);
    mcunet_ref_add_s8(&p, a, b, ref_out);
    mcunet_add_s8(&p, a, b, i % 2 ? a : b); /* in place, as the planner's kElementwise */
    check("add", i, i % 2 ? a : b, ref_out, n);
  }
}

int main(void) {
  con_kv_str("mcunet_selftest", FW_TARGET_NAME);
#if defined(MCUNET_PORTABLE_KERNELS)
  con_kv_str("kernels", "portable");
#else
  con_kv_str("kernels", "dsp");
#endif
  pointwise_cases();
  depthwise_cases();
  conv_cases();
  add_cases();
  con_kv_uint("selftest_cases", cases);
  con_kv_uint("selftest_failures", failures);
  con_kv_uint("status", failures ? 1u : 0u);
  return failures ? 1 : 0;
}
