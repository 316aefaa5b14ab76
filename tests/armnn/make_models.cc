// Writes a few quantised random models as .tflite files: inputs for the Arm
// NN cross-check (armnn_check.py) and seeds for the .tflite fuzzer.
// Usage: make_test_models DIR. Models whose file has a PAD op (PyTorch-style
// padding of a stride-2 layer on an even size) go to DIR/pad, the others to
// DIR/exact: Arm NN 20.08 pads int8 tensors with 0 instead of the zero point
// when it cannot fold the PAD into a following CONV_2D (e.g. in front of a
// DEPTHWISE_CONV_2D), so only DIR/exact is expected to agree with TFLite
// semantics there.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "mcunet/error.h"
#include "mcunet/ptq.h"
#include "mcunet/tflite_reader.h"
#include "mcunet/tflite_writer.h"
#include "random_float_model.h"

namespace {

// Single-op int8 graphs with random weights and quantisation, one per kernel
// variant the engine has: DIR/ops/<name>.tflite.
void WriteOpModels(const std::string& dir) {
  using namespace mcunet;
  Rng rng(5);
  auto U = [&](double a, double b) { return a + (b - a) * rng.Uniform(); };
  auto Q = [](Tensor& t, float s, int zp) {
    t.quant.scale = {s};
    t.quant.zero_point = {zp};
  };
  auto weights = [&](Graph& g, Op& op, Shape ws, int cout, bool dw, bool per_channel) {
    op.inputs[1] = g.AddTensor(DType::kInt8, ws, true);
    op.inputs[2] = g.AddTensor(DType::kInt32, MakeShape({cout}), true);
    Tensor& w = g.tensors[op.inputs[1]];
    w.data.resize(w.bytes());
    for (auto& v : w.data) v = static_cast<uint8_t>(static_cast<int8_t>(std::lround(U(-127, 127))));
    const int n = per_channel ? cout : 1;
    for (int c = 0; c < n; ++c) {
      w.quant.scale.push_back(static_cast<float>(U(0.002, 0.01)));
      w.quant.zero_point.push_back(0);
    }
    w.quant.quantized_dimension = dw ? 3 : 0;
    Tensor& b = g.tensors[op.inputs[2]];
    b.data.resize(b.bytes());
    for (int c = 0; c < cout; ++c) {
      const int32_t v = static_cast<int32_t>(std::lround(U(-2000, 2000)));
      std::memcpy(b.data.data() + 4 * c, &v, 4);
    }
    const float s_in = g.tensors[op.inputs[0]].quant.scale[0];
    for (int c = 0; c < n; ++c) {
      b.quant.scale.push_back(s_in * w.quant.scale[c]);
      b.quant.zero_point.push_back(0);
    }
  };
  struct OpCase {
    const char* name;
    OpKind kind;
    int kernel, stride;
    Activation act;
  };
  const OpCase cases[] = {
      {"conv3x3", OpKind::kConv2D, 3, 1, Activation::kNone},
      {"conv3x3_relu6", OpKind::kConv2D, 3, 1, Activation::kRelu6},
      {"conv3x3_s2_pad", OpKind::kConv2D, 3, 2, Activation::kRelu6},  // PAD folded by Arm NN into the conv
      {"pointwise", OpKind::kPointwiseConv2D, 1, 1, Activation::kNone},
      {"depthwise3x3_relu6", OpKind::kDepthwiseConv2D, 3, 1, Activation::kRelu6},
      {"depthwise5x5", OpKind::kDepthwiseConv2D, 5, 1, Activation::kNone},
      {"depthwise7x7_s2_odd", OpKind::kDepthwiseConv2D, 7, 2, Activation::kRelu6},
      {"add", OpKind::kAdd, 1, 1, Activation::kNone},
      {"mean", OpKind::kMean, 1, 1, Activation::kNone},
      {"fully_connected", OpKind::kFullyConnected, 1, 1, Activation::kNone},
  };
  std::filesystem::create_directories(dir + "/ops");
  for (const OpCase& c : cases) {
    Graph g;
    g.name = c.name;
    const int h = std::string(c.name).find("odd") != std::string::npos ? 9 : 8;
    const int32_t in = g.AddTensor(DType::kInt8, MakeShape({1, h, h, 8}));
    Q(g.tensors[in], static_cast<float>(U(0.02, 0.08)), static_cast<int>(std::lround(U(-20, 20))));
    g.inputs = {in};
    Op op;
    op.kind = c.kind;
    op.inputs[0] = in;
    op.kernel_h = op.kernel_w = c.kernel;
    op.stride_h = op.stride_w = c.stride;
    op.pad_top = op.pad_left = c.kernel / 2;
    op.activation = c.act;
    const int oh = (h + c.stride - 1) / c.stride;
    Shape os = MakeShape({1, oh, oh, 8});
    switch (c.kind) {
      case OpKind::kConv2D: weights(g, op, MakeShape({8, c.kernel, c.kernel, 8}), 8, false, true); break;
      case OpKind::kPointwiseConv2D: weights(g, op, MakeShape({8, 1, 1, 8}), 8, false, true); break;
      case OpKind::kDepthwiseConv2D: weights(g, op, MakeShape({1, c.kernel, c.kernel, 8}), 8, true, true); break;
      case OpKind::kAdd: {
        // in + (1x1 conv of in): two differently quantised inputs.
        Op pw;
        pw.kind = OpKind::kPointwiseConv2D;
        pw.inputs[0] = in;
        weights(g, pw, MakeShape({8, 1, 1, 8}), 8, false, true);
        pw.output = g.AddTensor(DType::kInt8, MakeShape({1, h, h, 8}));
        Q(g.tensors[pw.output], 0.07f, -9);
        g.ops.push_back(pw);
        op.inputs[1] = pw.output;
        break;
      }
      case OpKind::kMean:
        os = MakeShape({1, 8});
        op.kernel_h = op.kernel_w = h;
        break;
      case OpKind::kFullyConnected: {
        const int32_t flat = g.AddTensor(DType::kInt8, MakeShape({1, 16}));
        g.tensors[flat].quant = g.tensors[in].quant;
        g.tensors[in].shape = MakeShape({1, 16});
        op.inputs[0] = in;
        os = MakeShape({1, 10});
        weights(g, op, MakeShape({10, 16}), 10, false, false);
        (void)flat;
        break;
      }
      default: break;
    }
    op.output = g.AddTensor(DType::kInt8, os);
    Q(g.tensors[op.output], c.kind == OpKind::kMean ? 0.02f : 0.1f, c.act == Activation::kRelu6 ? -128 : -7);
    g.ops.push_back(op);
    g.outputs = {op.output};
    const std::string path = dir + "/ops/" + c.name + ".tflite";
    WriteTfliteFile(g, path);
    std::printf("%s\n", path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  using namespace mcunet;
  const std::string dir = argv[1];
  std::filesystem::create_directories(dir + "/pad");
  std::filesystem::create_directories(dir + "/exact");
  struct Spec {
    const char* file;
    const char* space;
    double width;
    int resolution;
    uint64_t seed;
    bool float_io;
  };
  const Spec specs[] = {
      {"fmnist_w05_r28_int8.tflite", "fmnist_small.json", 0.5, 28, 1, false},
      {"fmnist_w05_r32_float_io.tflite", "fmnist_small.json", 0.5, 32, 2, true},
      {"mcunet_w03_r48_int8.tflite", "mcunet.json", 0.3, 48, 3, false},
      // Odd sizes at every stride-2 layer: PyTorch padding is TFLite SAME.
      {"fmnist_w05_r25_int8.tflite", "fmnist_small.json", 0.5, 25, 4, false},
      {"fmnist_w075_r25_float_io.tflite", "fmnist_small.json", 0.75, 25, 5, true},
  };
  try {
    for (const Spec& s : specs) {
      // Sampled at the space's first resolution, then run at s.resolution
      // (any size works; odd sizes avoid PAD ops).
      Arch arch = SampleArch(std::string(MCUNET_SOURCE_DIR "/search_spaces/") + s.space, s.width,
                             std::string(s.space) == "mcunet.json" ? 48 : 28, s.seed, 10);
      arch.resolution = s.resolution;
      const FloatModel m = RandomFloatModel(arch, s.seed);
      ImageDataset calib;
      calib.height = calib.width = arch.resolution;
      calib.channels = arch.in_channels;
      calib.pixels = RandomImages(arch.resolution, arch.in_channels, 16, s.seed + 100);
      calib.labels.assign(16, 0);
      const Graph g = QuantizeModel(m, NormalizeImages(m, calib), 16);
      TfliteWriteOptions o;
      o.float_io = s.float_io;
      const std::string tmp = dir + "/" + s.file;
      WriteTfliteFile(g, tmp, o);
      bool has_pad = false;
      for (const Op& op : ReadTflite(tmp).ops) has_pad |= op.kind == OpKind::kPad;
      const std::string path = dir + (has_pad ? "/pad/" : "/exact/") + s.file;
      std::filesystem::rename(tmp, path);
      std::printf("%s\n", path.c_str());
    }
    WriteOpModels(dir);
  } catch (const Error& e) {
    std::fprintf(stderr, "make_test_models: %s\n", e.what());
    return 2;
  }
  return 0;
}
