// Post-training int8 quantisation of a FloatModel (see mcunet/ptq.h).
#include "mcunet/ptq.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "mcunet/error.h"
#include "mcunet/lower.h"

namespace mcunet {

namespace {

std::string Str(int64_t v) { return std::to_string(v); }

bool IsConv(OpKind k) { return k == OpKind::kConv2D || k == OpKind::kPointwiseConv2D || k == OpKind::kDepthwiseConv2D; }

void SetQuant(Tensor& t, std::vector<float> scale, int quantized_dimension = 0) {
  t.quant.zero_point.assign(scale.size(), 0);
  t.quant.scale = std::move(scale);
  t.quant.quantized_dimension = quantized_dimension;
}

// Range [lo, hi] holding `share` percent of the histogram's mass, clipping
// (100 - share) / 2 percent on each side.
void PercentileRange(const std::vector<uint64_t>& hist, float h_lo, float h_hi, double share, float* lo, float* hi) {
  uint64_t total = 0;
  for (uint64_t c : hist) total += c;
  if (total == 0) return;
  const double clip = total * (100.0 - share) / 200.0;
  const double width = (static_cast<double>(h_hi) - h_lo) / hist.size();
  uint64_t acc = 0;
  size_t b = 0;
  for (; b < hist.size(); ++b) {
    acc += hist[b];
    if (acc > clip) break;
  }
  *lo = std::max(*lo, static_cast<float>(h_lo + b * width));
  acc = 0;
  size_t e = hist.size();
  while (e > 0) {
    acc += hist[e - 1];
    if (acc > clip) break;
    --e;
  }
  *hi = std::min(*hi, static_cast<float>(h_lo + e * width));
}

// Quantises the folded float weights of one conv / FC into `w` and its bias
// into `b`, per channel (conv) or per tensor (FC).
void QuantizeWeights(const Op& op, const FloatLayer& l, float s_in, Tensor& w, Tensor& b) {
  const int out_c = l.out_channels;
  const bool dw = op.kind == OpKind::kDepthwiseConv2D;
  const bool fc = op.kind == OpKind::kFullyConnected;
  const int64_t n = static_cast<int64_t>(l.weight.size());
  const int64_t per_out = n / out_c;
  auto channel = [&](int64_t i) { return dw ? static_cast<int>(i % out_c) : static_cast<int>(i / per_out); };

  // Fold BatchNorm (eval mode): w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta.
  std::vector<double> mul(out_c, 1.0), bias(out_c, 0.0);
  for (int c = 0; c < out_c; ++c) {
    const double b0 = l.bias.empty() ? 0.0 : l.bias[c];
    if (l.has_bn()) {
      mul[c] = static_cast<double>(l.bn_gamma[c]) / std::sqrt(static_cast<double>(l.bn_var[c]) + l.bn_eps);
      bias[c] = (b0 - l.bn_mean[c]) * mul[c] + l.bn_beta[c];
    } else {
      bias[c] = b0;
    }
  }
  std::vector<double> folded(n);
  for (int64_t i = 0; i < n; ++i) folded[i] = l.weight[i] * mul[channel(i)];

  // Scales: max |w| / 127, raised where needed so that the int32 bias fits
  // (|b| / (s_in * s_w) <= 2^30); weights all zero get 1/127.
  const int n_scales = fc ? 1 : out_c;
  std::vector<double> absmax(n_scales, 0.0), bmax(n_scales, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double& m = absmax[fc ? 0 : channel(i)];
    m = std::max(m, std::abs(folded[i]));
  }
  for (int c = 0; c < out_c; ++c) bmax[fc ? 0 : c] = std::max(bmax[fc ? 0 : c], std::abs(bias[c]));
  std::vector<float> scales(n_scales);
  for (int c = 0; c < n_scales; ++c) {
    double s = absmax[c] / 127.0;
    s = std::max(s, bmax[c] / (static_cast<double>(s_in) * 1073741824.0));
    if (!(s > 0.0) || !std::isfinite(s)) s = 1.0 / 127.0;
    scales[c] = static_cast<float>(s);
  }

  w.data.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const double q = std::round(folded[i] / scales[fc ? 0 : channel(i)]);
    w.data[i] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -127.0, 127.0)));
  }
  SetQuant(w, scales, dw ? 3 : 0);

  std::vector<float> bias_scales(n_scales);
  std::vector<int32_t> qb(out_c);
  for (int c = 0; c < n_scales; ++c) bias_scales[c] = static_cast<float>(static_cast<double>(s_in) * scales[c]);
  for (int c = 0; c < out_c; ++c) {
    // The bias scale TFLite derives: (double)s_in * (double)s_w.
    const double bs = static_cast<double>(s_in) * static_cast<double>(scales[fc ? 0 : c]);
    const double q = std::round(bias[c] / bs);
    qb[c] = static_cast<int32_t>(std::clamp(q, -2147483647.0, 2147483647.0));
  }
  b.data.resize(4 * static_cast<size_t>(out_c));
  std::memcpy(b.data.data(), qb.data(), b.data.size());
  SetQuant(b, bias_scales, 0);
}

}  // namespace

void ChooseActivationQuant(float lo, float hi, float* scale, int32_t* zero_point) {
  if (!std::isfinite(lo)) lo = 0.0f;
  if (!std::isfinite(hi)) hi = 0.0f;
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  double s = (static_cast<double>(hi) - lo) / 255.0;
  if (!(s > 1e-9)) s = 1e-9;
  *scale = static_cast<float>(s);
  const double zp = std::round(-128.0 - lo / static_cast<double>(*scale));
  *zero_point = static_cast<int32_t>(std::clamp(zp, -128.0, 127.0));
}

Graph QuantizeModel(const FloatModel& model, std::span<const float> calib, int64_t count, const PtqOptions& options) {
  if (count < 1) throw InvalidInput("QuantizeModel: needs at least one calibration image, got " + Str(count));
  Graph g = LowerArch(model.arch);
  const std::vector<const FloatLayer*> layers = LayersForOps(model, g);

  ActivationStats stats;
  FloatForward(model, calib, count, &stats);
  if (options.method == CalibrationMethod::kPercentile) {
    if (!(options.percentile > 0.0 && options.percentile <= 100.0) || options.histogram_bins < 2) {
      throw InvalidInput("QuantizeModel: percentile " + std::to_string(options.percentile) + " / bins " +
                         Str(options.histogram_bins) + ": expected 0 < percentile <= 100 and bins >= 2");
    }
    ActivationStats hist;
    hist.bins = options.histogram_bins;
    hist.hist_lo = stats.min;
    hist.hist_hi = stats.max;
    FloatForward(model, calib, count, &hist);
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (!g.tensors[t].is_constant && hist.hist_hi[t] > hist.hist_lo[t]) {
        PercentileRange(hist.hist[t], hist.hist_lo[t], hist.hist_hi[t], options.percentile, &stats.min[t],
                        &stats.max[t]);
      }
    }
  }

  auto set_activation = [&](int32_t t, Activation act) {
    float lo = stats.min[t], hi = stats.max[t];
    if (act == Activation::kRelu6) {
      lo = std::max(lo, 0.0f);
      hi = std::min(hi, 6.0f);
    } else if (act == Activation::kRelu) {
      lo = std::max(lo, 0.0f);
    }
    float s;
    int32_t zp;
    ChooseActivationQuant(lo, hi, &s, &zp);
    Tensor& tensor = g.tensors[t];
    tensor.quant.scale = {s};
    tensor.quant.zero_point = {zp};
    tensor.quant.quantized_dimension = 0;
  };

  // Input: the exact range of normalised pixels.
  {
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (int c = 0; c < model.arch.in_channels; ++c) {
      const float a = (0.0f - model.input_mean[c]) / model.input_std[c];
      const float b = (1.0f - model.input_mean[c]) / model.input_std[c];
      lo = std::min({lo, a, b});
      hi = std::max({hi, a, b});
    }
    const int32_t in = g.inputs[0];
    stats.min[in] = lo;
    stats.max[in] = hi;
    set_activation(in, Activation::kNone);
    g.tensors[in].name = "input";
  }

  int block = -1;
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const Op& op = g.ops[k];
    set_activation(op.output, op.activation);
    Tensor& out = g.tensors[op.output];
    if (IsConv(op.kind) || op.kind == OpKind::kFullyConnected) {
      const FloatLayer& l = *layers[k];
      const float s_in = g.tensors[op.inputs[0]].quant.scale[0];
      QuantizeWeights(op, l, s_in, g.tensors[op.inputs[1]], g.tensors[op.inputs[2]]);
      g.tensors[op.inputs[1]].name = l.name + "/weight";
      g.tensors[op.inputs[2]].name = l.name + "/bias";
      out.name = l.name == "classifier" ? "logits" : l.name;
      if (l.name.rfind("blocks.", 0) == 0) block = std::stoi(l.name.substr(7));
    } else if (op.kind == OpKind::kAdd) {
      out.name = "blocks." + Str(block) + ".add";
    } else if (op.kind == OpKind::kMean) {
      out.name = "global_avg_pool";
    }
  }
  g.Validate();
  spdlog::debug("ptq: quantised '{}' ({} ops) on {} calibration images", model.arch.name, g.ops.size(), count);
  return g;
}

std::vector<int8_t> QuantizeInput(const Graph& graph, std::span<const float> normalized) {
  const Tensor& in = graph.tensors.at(graph.inputs.at(0));
  if (in.quant.empty()) throw InvalidInput("QuantizeInput: the graph input has no quantisation parameters");
  const float scale = in.quant.scale[0];
  const int32_t zp = static_cast<int32_t>(in.quant.zero_point[0]);
  std::vector<int8_t> out(normalized.size());
  for (size_t i = 0; i < normalized.size(); ++i) {
    float r = std::round(normalized[i] / scale);  // float, half away from zero
    if (r != r) r = 0.0f;
    r = std::clamp(r, -1000.0f, 1000.0f);
    out[i] = static_cast<int8_t>(std::clamp(static_cast<int32_t>(r) + zp, -128, 127));
  }
  return out;
}

std::vector<int8_t> QuantizeImages(const FloatModel& model, const Graph& graph, const uint8_t* pixels,
                                   int64_t count) {
  const int64_t px = static_cast<int64_t>(model.arch.resolution) * model.arch.resolution;
  std::vector<float> x(count * px * model.arch.in_channels);
  for (int64_t i = 0; i < count; ++i) {
    NormalizeImage(model, pixels + i * px * model.arch.in_channels, px, x.data() + i * px * model.arch.in_channels);
  }
  return QuantizeInput(graph, x);
}

std::vector<float> DequantizeOutput(const Graph& graph, std::span<const int8_t> q) {
  const Tensor& out = graph.tensors.at(graph.outputs.at(0));
  const float scale = out.quant.scale.at(0);
  const int64_t zp = out.quant.zero_point.at(0);
  std::vector<float> r(q.size());
  for (size_t i = 0; i < q.size(); ++i) r[i] = static_cast<float>(q[i] - zp) * scale;
  return r;
}

}  // namespace mcunet
