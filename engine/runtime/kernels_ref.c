/* Reference int8 kernels: direct transcriptions of the TFLite / TF-Lite Micro
 * reference formulas (kernels/internal/reference/integer_ops/{conv,
 * depthwise_conv,add,fully_connected,pooling}.h, reference/reduce.h,
 * micro/kernels/reduce_common.cc). Written for clarity, not speed: they are
 * the specification the optimised kernels (kernels_opt.c) are tested against.
 */
#include "mcunet_kernels.h"
#include "requantize.h"

static int32_t dilation_or_one(int32_t d) { return d > 0 ? d : 1; }

static int8_t requantize_to_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_zp, int32_t act_min,
                               int32_t act_max) {
  acc = mcunet_multiply_by_quantized_multiplier(acc, multiplier, shift);
  acc += out_zp;
  return (int8_t)mcunet_clamp_i32(acc, act_min, act_max);
}

void mcunet_ref_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                          const int32_t* bias, int8_t* output) {
  const int32_t input_offset = -p->in_zp;
  const int32_t dh = dilation_or_one(p->dilation_h);
  const int32_t dw = dilation_or_one(p->dilation_w);
  int32_t oy, ox, oc, ky, kx, ic;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      const int32_t in_x0 = ox * p->stride_w - p->pad_left;
      for (oc = 0; oc < p->out_c; ++oc) {
        int32_t acc = 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          const int32_t iy = in_y0 + dh * ky;
          for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t ix = in_x0 + dw * kx;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) continue;
            for (ic = 0; ic < p->in_c; ++ic) {
              const int32_t x = input[(iy * p->in_w + ix) * p->in_c + ic];
              const int32_t w = weights[((oc * p->kernel_h + ky) * p->kernel_w + kx) * p->in_c + ic];
              acc += w * (x + input_offset);
            }
          }
        }
        if (bias) acc += bias[oc];
        output[(oy * p->out_w + ox) * p->out_c + oc] =
            requantize_to_s8(acc, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
      }
    }
  }
}

void mcunet_ref_depthwise_conv2d_s8(const mcunet_conv_params* p, const int8_t* input, const int8_t* weights,
                                    const int32_t* bias, int8_t* output) {
  const int32_t input_offset = -p->in_zp;
  const int32_t dh = dilation_or_one(p->dilation_h);
  const int32_t dw = dilation_or_one(p->dilation_w);
  const int32_t depth_multiplier = p->out_c / p->in_c;
  int32_t oy, ox, ic, m, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      const int32_t in_x0 = ox * p->stride_w - p->pad_left;
      for (ic = 0; ic < p->in_c; ++ic) {
        for (m = 0; m < depth_multiplier; ++m) {
          const int32_t oc = m + ic * depth_multiplier;
          int32_t acc = 0;
          for (ky = 0; ky < p->kernel_h; ++ky) {
            const int32_t iy = in_y0 + dh * ky;
            for (kx = 0; kx < p->kernel_w; ++kx) {
              const int32_t ix = in_x0 + dw * kx;
              if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) continue;
              {
                const int32_t x = input[(iy * p->in_w + ix) * p->in_c + ic];
                const int32_t w = weights[(ky * p->kernel_w + kx) * p->out_c + oc];
                acc += w * (x + input_offset);
              }
            }
          }
          if (bias) acc += bias[oc];
          output[(oy * p->out_w + ox) * p->out_c + oc] =
              requantize_to_s8(acc, p->multiplier[oc], mcunet_conv_shift(p, oc), p->out_zp, p->act_min, p->act_max);
        }
      }
    }
  }
}

void mcunet_ref_add_s8(const mcunet_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t v1 = input1[i] - p->in1_zp;
    const int32_t v2 = input2[i] - p->in2_zp;
    const int32_t s1 = v1 * ((int32_t)1 << p->left_shift);
    const int32_t s2 = v2 * ((int32_t)1 << p->left_shift);
    const int32_t r1 = mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp(s1, p->in1_multiplier, p->in1_shift);
    const int32_t r2 = mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp(s2, p->in2_multiplier, p->in2_shift);
    const int32_t raw = mcunet_multiply_by_quantized_multiplier_smaller_than_one_exp(r1 + r2, p->out_multiplier,
                                                                                     p->out_shift) +
                        p->out_zp;
    output[i] = (int8_t)mcunet_clamp_i32(raw, p->act_min, p->act_max);
  }
}

void mcunet_ref_mean_s8(const mcunet_mean_params* p, const int8_t* input, int8_t* output) {
  const int32_t n = p->in_h * p->in_w;
  int32_t c, i;
  if (n <= 0) return;
  for (c = 0; c < p->c; ++c) {
    int32_t sum = 0;
    for (i = 0; i < n; ++i) sum += input[i * p->c + c];
    if (p->divide_only) {
      output[c] = (int8_t)(sum / n);
    } else {
      const int32_t shifted = sum - p->in_zp * n;
      const int32_t v = mcunet_multiply_by_quantized_multiplier(shifted, p->multiplier, p->shift) + p->out_zp;
      output[c] = (int8_t)mcunet_clamp_i32(v, -128, 127);
    }
  }
}

int mcunet_ref_avg_pool_s8(const mcunet_pool_params* p, const int8_t* input, int8_t* output) {
  int32_t oy, ox, c, fy, fx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      for (c = 0; c < p->c; ++c) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        const int32_t in_y0 = oy * p->stride_h - p->pad_top;
        const int32_t fx0 = in_x0 < 0 ? -in_x0 : 0;
        const int32_t fx1 = p->kernel_w < p->in_w - in_x0 ? p->kernel_w : p->in_w - in_x0;
        const int32_t fy0 = in_y0 < 0 ? -in_y0 : 0;
        const int32_t fy1 = p->kernel_h < p->in_h - in_y0 ? p->kernel_h : p->in_h - in_y0;
        int32_t acc = 0;
        int32_t count = 0;
        for (fy = fy0; fy < fy1; ++fy) {
          for (fx = fx0; fx < fx1; ++fx) {
            acc += input[((in_y0 + fy) * p->in_w + (in_x0 + fx)) * p->c + c];
            ++count;
          }
        }
        if (count == 0) return -1;
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        output[(oy * p->out_w + ox) * p->c + c] = (int8_t)mcunet_clamp_i32(acc, p->act_min, p->act_max);
      }
    }
  }
  return 0;
}

void mcunet_ref_fully_connected_s8(const mcunet_fc_params* p, const int8_t* input, const int8_t* weights,
                                   const int32_t* bias, int8_t* output) {
  const int32_t input_offset = -p->in_zp;
  int32_t o, i;
  for (o = 0; o < p->out_features; ++o) {
    const int32_t k = p->per_channel ? o : 0;
    int32_t acc = 0;
    for (i = 0; i < p->in_features; ++i) {
      acc += (int32_t)weights[o * p->in_features + i] * ((int32_t)input[i] + input_offset);
    }
    if (bias) acc += bias[o];
    output[o] = requantize_to_s8(acc, p->multiplier[k], p->shift[k], p->out_zp, p->act_min, p->act_max);
  }
}

/* round(x) half away from zero for finite float x, without libm. */
static float round_half_away_f32(float x) {
  float t, frac;
  if (!(x < 8388608.0f && x > -8388608.0f)) return x; /* |x| >= 2^23: already integral */
  t = (float)(int32_t)x;                              /* truncation toward zero */
  frac = x - t;                                       /* exact */
  if (frac >= 0.5f) t += 1.0f;
  if (frac <= -0.5f) t -= 1.0f;
  return t;
}

void mcunet_ref_quantize_f32_s8(const float* input, int8_t* output, int32_t size, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    float r = round_half_away_f32(input[i] / scale);
    int32_t q;
    if (r != r) r = 0.0f; /* NaN */
    if (r > 1000.0f) r = 1000.0f;
    if (r < -1000.0f) r = -1000.0f;
    q = (int32_t)r + zero_point;
    output[i] = (int8_t)mcunet_clamp_i32(q, -128, 127);
  }
}

void mcunet_ref_dequantize_s8_f32(const int8_t* input, float* output, int32_t size, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < size; ++i) output[i] = (float)((int32_t)input[i] - zero_point) * scale;
}
