// Float reference forward pass over the lowered graph of a FloatModel.
#include "mcunet/float_forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "mcunet/error.h"
#include "mcunet/lower.h"

namespace mcunet {

namespace {

std::string Str(int64_t v) { return std::to_string(v); }

bool IsConv(OpKind k) { return k == OpKind::kConv2D || k == OpKind::kPointwiseConv2D || k == OpKind::kDepthwiseConv2D; }

// Expected layer names of the conv / FC ops of LowerArch(arch), in op order.
std::vector<std::string> LayerNames(const Arch& a) {
  std::vector<std::string> names{"first_conv"};
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    const std::string p = "blocks." + std::to_string(i) + ".";
    if (a.blocks[i].has_expand()) names.push_back(p + "expand");
    names.push_back(p + "depthwise");
    names.push_back(p + "project");
  }
  if (a.feature_mix_channels > 0) names.push_back("feature_mix");
  names.push_back("classifier");
  return names;
}

void CheckLayer(const FloatLayer& l, const Op& op, const Graph& g) {
  const std::string at = "float model: layer '" + l.name + "'";
  auto fail = [&](const std::string& field, int64_t got, int64_t want) {
    throw InvalidInput(at + ": " + field + " is " + Str(got) + ", expected " + Str(want));
  };
  const Shape& in = g.tensors[op.inputs[0]].shape;
  const Shape& out = g.tensors[op.output].shape;
  const int64_t in_c = in[in.rank - 1];
  const int64_t out_c = out[out.rank - 1];
  if (l.in_channels != in_c) fail("in_channels", l.in_channels, in_c);
  if (l.out_channels != out_c) fail("out_channels", l.out_channels, out_c);
  int64_t weights = 0;
  if (op.kind == OpKind::kFullyConnected) {
    weights = out_c * in_c;
  } else {
    if (l.kernel != op.kernel_h) fail("kernel", l.kernel, op.kernel_h);
    if (l.stride != op.stride_h) fail("stride", l.stride, op.stride_h);
    const bool dw = op.kind == OpKind::kDepthwiseConv2D;
    if (l.depthwise != dw) fail("depthwise", l.depthwise, dw);
    weights = dw ? int64_t{l.kernel} * l.kernel * out_c : out_c * l.kernel * l.kernel * in_c;
  }
  if (static_cast<int64_t>(l.weight.size()) != weights) fail("weight size", l.weight.size(), weights);
  if (!l.bias.empty() && static_cast<int64_t>(l.bias.size()) != out_c) fail("bias size", l.bias.size(), out_c);
  if (l.has_bn()) {
    for (const auto* v : {&l.bn_beta, &l.bn_mean, &l.bn_var}) {
      if (static_cast<int64_t>(v->size()) != out_c) fail("BatchNorm vector size", v->size(), out_c);
    }
    if (static_cast<int64_t>(l.bn_gamma.size()) != out_c) fail("bn_gamma size", l.bn_gamma.size(), out_c);
  }
}

// Per output channel: y = acc * a[c] + b[c], the conv bias and BatchNorm
// (eval mode) in one affine map, computed as BatchNorm defines it.
struct ChannelAffine {
  std::vector<float> mul, add;
};

ChannelAffine Affine(const FloatLayer& l) {
  ChannelAffine a;
  const int n = l.out_channels;
  a.mul.assign(n, 1.0f);
  a.add.assign(n, 0.0f);
  for (int c = 0; c < n; ++c) {
    const double bias = l.bias.empty() ? 0.0 : l.bias[c];
    if (l.has_bn()) {
      const double inv = static_cast<double>(l.bn_gamma[c]) / std::sqrt(static_cast<double>(l.bn_var[c]) + l.bn_eps);
      a.mul[c] = static_cast<float>(inv);
      a.add[c] = static_cast<float>((bias - l.bn_mean[c]) * inv + l.bn_beta[c]);
    } else {
      a.add[c] = static_cast<float>(bias);
    }
  }
  return a;
}

struct PreparedOp {
  const FloatLayer* layer = nullptr;
  ChannelAffine affine;
};

void RunConv(const Graph& g, const Op& op, const PreparedOp& p, const std::vector<float>& in, std::vector<float>* out) {
  const Shape& is = g.tensors[op.inputs[0]].shape;
  const Shape& os = g.tensors[op.output].shape;
  const int ih = is[1], iw = is[2], ic = is[3];
  const int oh = os[1], ow = os[2], oc = os[3];
  const int k = op.kernel_h, s = op.stride_h, pad = op.pad_top;
  const float* w = p.layer->weight.data();
  out->assign(static_cast<size_t>(oh) * ow * oc, 0.0f);
  float* o = out->data();
  const bool relu6 = p.layer->relu6;
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      float* op_px = o + (static_cast<size_t>(oy) * ow + ox) * oc;
      if (op.kind == OpKind::kDepthwiseConv2D) {
        for (int ky = 0; ky < k; ++ky) {
          const int y = oy * s - pad + ky;
          if (y < 0 || y >= ih) continue;
          for (int kx = 0; kx < k; ++kx) {
            const int x = ox * s - pad + kx;
            if (x < 0 || x >= iw) continue;
            const float* ip = in.data() + (static_cast<size_t>(y) * iw + x) * ic;
            const float* wp = w + (static_cast<size_t>(ky) * k + kx) * oc;
            for (int c = 0; c < oc; ++c) op_px[c] += ip[c] * wp[c];
          }
        }
      } else {
        for (int c = 0; c < oc; ++c) {
          float acc = 0.0f;
          const float* wc = w + static_cast<size_t>(c) * k * k * ic;
          for (int ky = 0; ky < k; ++ky) {
            const int y = oy * s - pad + ky;
            if (y < 0 || y >= ih) continue;
            for (int kx = 0; kx < k; ++kx) {
              const int x = ox * s - pad + kx;
              if (x < 0 || x >= iw) continue;
              const float* ip = in.data() + (static_cast<size_t>(y) * iw + x) * ic;
              const float* wp = wc + (static_cast<size_t>(ky) * k + kx) * ic;
              for (int i = 0; i < ic; ++i) acc += ip[i] * wp[i];
            }
          }
          op_px[c] = acc;
        }
      }
      for (int c = 0; c < oc; ++c) {
        float v = op_px[c] * p.affine.mul[c] + p.affine.add[c];
        if (relu6) v = std::min(std::max(v, 0.0f), 6.0f);
        op_px[c] = v;
      }
    }
  }
}

void RunFc(const Graph& g, const Op& op, const PreparedOp& p, const std::vector<float>& in, std::vector<float>* out) {
  const int out_f = g.tensors[op.inputs[1]].shape[0];
  const int in_f = g.tensors[op.inputs[1]].shape[1];
  out->assign(out_f, 0.0f);
  for (int o = 0; o < out_f; ++o) {
    float acc = 0.0f;
    const float* w = p.layer->weight.data() + static_cast<size_t>(o) * in_f;
    for (int i = 0; i < in_f; ++i) acc += in[i] * w[i];
    float v = acc * p.affine.mul[o] + p.affine.add[o];
    if (p.layer->relu6) v = std::min(std::max(v, 0.0f), 6.0f);
    (*out)[o] = v;
  }
}

void Record(ActivationStats* st, int32_t t, const std::vector<float>& v) {
  if (st == nullptr) return;
  float lo = st->min[t], hi = st->max[t];
  for (float x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  st->min[t] = lo;
  st->max[t] = hi;
  if (st->bins > 0 && t < static_cast<int32_t>(st->hist_lo.size()) && st->hist_hi[t] > st->hist_lo[t]) {
    std::vector<uint64_t>& h = st->hist[t];
    const double lo_t = st->hist_lo[t];
    const double w = (static_cast<double>(st->hist_hi[t]) - lo_t) / st->bins;
    for (float x : v) {
      int b = static_cast<int>(std::floor((x - lo_t) / w));
      h[std::clamp(b, 0, st->bins - 1)]++;
    }
  }
}

// Runs one image through the prepared graph; every tensor's values land in
// `buf` (indexed by tensor).
void RunImage(const Graph& g, const std::vector<PreparedOp>& prep, std::span<const float> image,
              std::vector<std::vector<float>>& buf, ActivationStats* st) {
  buf[g.inputs[0]].assign(image.begin(), image.end());
  Record(st, g.inputs[0], buf[g.inputs[0]]);
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const Op& op = g.ops[k];
    std::vector<float>& out = buf[op.output];
    const std::vector<float>& in = buf[op.inputs[0]];
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kPointwiseConv2D:
      case OpKind::kDepthwiseConv2D: RunConv(g, op, prep[k], in, &out); break;
      case OpKind::kFullyConnected: RunFc(g, op, prep[k], in, &out); break;
      case OpKind::kAdd: {
        const std::vector<float>& b = buf[op.inputs[1]];
        out.resize(in.size());
        for (size_t j = 0; j < in.size(); ++j) out[j] = in[j] + b[j];
        break;
      }
      case OpKind::kMean: {
        const Shape& s = g.tensors[op.inputs[0]].shape;
        const int64_t hw = int64_t{s[1]} * s[2];
        const int c = s[3];
        std::vector<double> sum(c, 0.0);
        for (int64_t p = 0; p < hw; ++p) {
          for (int j = 0; j < c; ++j) sum[j] += in[p * c + j];
        }
        out.resize(c);
        for (int j = 0; j < c; ++j) out[j] = static_cast<float>(sum[j] / static_cast<double>(hw));
        break;
      }
      default: break;  // LowerArch emits no other op (checked above)
    }
    Record(st, op.output, out);
  }
}

}  // namespace

void ActivationStats::Reset(size_t num_tensors) {
  min.assign(num_tensors, std::numeric_limits<float>::infinity());
  max.assign(num_tensors, -std::numeric_limits<float>::infinity());
  hist.assign(num_tensors, std::vector<uint64_t>(bins > 0 ? bins : 0, 0));
}

void ActivationStats::Merge(const ActivationStats& o) {
  for (size_t t = 0; t < min.size() && t < o.min.size(); ++t) {
    min[t] = std::min(min[t], o.min[t]);
    max[t] = std::max(max[t], o.max[t]);
  }
  for (size_t t = 0; t < hist.size() && t < o.hist.size(); ++t) {
    for (size_t b = 0; b < hist[t].size() && b < o.hist[t].size(); ++b) hist[t][b] += o.hist[t][b];
  }
}

std::vector<const FloatLayer*> LayersForOps(const FloatModel& model, const Graph& g) {
  std::map<std::string, const FloatLayer*> by_name;
  for (const FloatLayer& l : model.layers) by_name[l.name] = &l;
  const std::vector<std::string> names = LayerNames(model.arch);
  std::vector<const FloatLayer*> out(g.ops.size(), nullptr);
  size_t next = 0;
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const Op& op = g.ops[k];
    if (!IsConv(op.kind) && op.kind != OpKind::kFullyConnected) continue;
    if (next >= names.size()) throw InvalidInput("float model: more weighted ops than layers");
    const std::string& name = names[next++];
    const auto it = by_name.find(name);
    if (it == by_name.end()) throw InvalidInput("float model: layer '" + name + "' is missing from 'layers'");
    CheckLayer(*it->second, op, g);
    out[k] = it->second;
  }
  if (model.input_mean.size() != static_cast<size_t>(model.arch.in_channels) ||
      model.input_std.size() != static_cast<size_t>(model.arch.in_channels)) {
    throw InvalidInput("float model: input_mean / input_std need " + Str(model.arch.in_channels) + " values, got " +
                       Str(model.input_mean.size()) + " / " + Str(model.input_std.size()));
  }
  return out;
}

void NormalizeImage(const FloatModel& model, const uint8_t* pixels, int64_t num_pixels, float* out) {
  const int c = model.arch.in_channels;
  for (int64_t i = 0; i < num_pixels * c; ++i) {
    const int ch = static_cast<int>(i % c);
    out[i] = (static_cast<float>(pixels[i]) / 255.0f - model.input_mean[ch]) / model.input_std[ch];
  }
}

std::vector<float> NormalizeImages(const FloatModel& model, const ImageDataset& data, int64_t count) {
  const Arch& a = model.arch;
  if (data.height != a.resolution || data.width != a.resolution || data.channels != a.in_channels) {
    throw InvalidInput(data.source + ": images are " + Str(data.height) + "x" + Str(data.width) + "x" +
                       Str(data.channels) + ", the model '" + a.name + "' expects " + Str(a.resolution) + "x" +
                       Str(a.resolution) + "x" + Str(a.in_channels) + " (resize the data set first)");
  }
  if (model.input_mean.size() != static_cast<size_t>(a.in_channels) ||
      model.input_std.size() != static_cast<size_t>(a.in_channels)) {
    throw InvalidInput("float model: input_mean / input_std need " + Str(a.in_channels) + " values");
  }
  const int64_t n = count < 0 ? data.size() : std::min<int64_t>(count, data.size());
  const int64_t px = static_cast<int64_t>(a.resolution) * a.resolution;
  std::vector<float> out(n * px * a.in_channels);
  for (int64_t i = 0; i < n; ++i) NormalizeImage(model, data.image(i), px, out.data() + i * px * a.in_channels);
  return out;
}

namespace {

struct Prepared {
  Graph g;
  std::vector<PreparedOp> prep;
};

Prepared Prepare(const FloatModel& model) {
  Prepared p;
  p.g = LowerArch(model.arch);
  const std::vector<const FloatLayer*> layers = LayersForOps(model, p.g);
  p.prep.resize(p.g.ops.size());
  for (size_t k = 0; k < p.g.ops.size(); ++k) {
    p.prep[k].layer = layers[k];
    if (layers[k] != nullptr) p.prep[k].affine = Affine(*layers[k]);
  }
  for (const Op& op : p.g.ops) {
    if (!IsConv(op.kind) && op.kind != OpKind::kFullyConnected && op.kind != OpKind::kAdd && op.kind != OpKind::kMean) {
      throw InvalidInput("FloatForward: " + std::string(OpKindName(op.kind)) + " is not part of a lowered Arch");
    }
  }
  return p;
}

}  // namespace

std::vector<std::vector<float>> FloatForwardTensors(const FloatModel& model, std::span<const float> image) {
  const Prepared p = Prepare(model);
  const int64_t in_size = p.g.tensors[p.g.inputs[0]].shape.elements();
  if (static_cast<int64_t>(image.size()) != in_size) {
    throw InvalidInput("FloatForwardTensors: " + Str(image.size()) + " floats, the input " +
                       p.g.tensors[p.g.inputs[0]].shape.ToString() + " needs " + Str(in_size));
  }
  std::vector<std::vector<float>> buf(p.g.tensors.size());
  RunImage(p.g, p.prep, image, buf, nullptr);
  return buf;
}

std::vector<float> FloatForward(const FloatModel& model, std::span<const float> images, int64_t count,
                                ActivationStats* stats) {
  const Prepared p = Prepare(model);
  const Graph& g = p.g;
  const std::vector<PreparedOp>& prep = p.prep;
  const int64_t in_size = g.tensors[g.inputs[0]].shape.elements();
  const int classes = model.arch.num_classes;
  if (count < 0 || static_cast<int64_t>(images.size()) != count * in_size) {
    throw InvalidInput("FloatForward: " + Str(images.size()) + " floats for " + Str(count) + " images of " +
                       Str(in_size) + " values (" + g.tensors[g.inputs[0]].shape.ToString() + ")");
  }
  std::vector<float> logits(count * classes);
  if (stats != nullptr) stats->Reset(g.tensors.size());

#pragma omp parallel
  {
    ActivationStats local;
    ActivationStats* st = nullptr;
    if (stats != nullptr) {
      local.bins = stats->bins;
      local.hist_lo = stats->hist_lo;
      local.hist_hi = stats->hist_hi;
      local.Reset(g.tensors.size());
      st = &local;
    }
    std::vector<std::vector<float>> buf(g.tensors.size());
#pragma omp for schedule(dynamic, 4)
    for (int64_t i = 0; i < count; ++i) {
      RunImage(g, prep, images.subspan(i * in_size, in_size), buf, st);
      const std::vector<float>& res = buf[g.outputs[0]];
      std::copy(res.begin(), res.end(), logits.begin() + i * classes);
    }
    if (stats != nullptr) {
#pragma omp critical
      stats->Merge(local);
    }
  }
  return logits;
}

std::vector<int32_t> ArgmaxRows(std::span<const float> logits, int classes) {
  std::vector<int32_t> out;
  if (classes <= 0) return out;
  for (size_t r = 0; r + classes <= logits.size(); r += classes) {
    out.push_back(static_cast<int32_t>(std::max_element(logits.begin() + r, logits.begin() + r + classes) -
                                       (logits.begin() + r)));
  }
  return out;
}

}  // namespace mcunet
