// Tests of the .tflite reader: a real int8 MCUNet model (tests/data/
// mcunet-vww1.tflite), tiny models built with the flatbuffers builder, and
// corrupt input (empty, truncated, mutated, wrong identifier, missing file).

#include "mcunet/tflite_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/graph.h"
#include "tflite_schema_generated.h"

namespace mcunet {
namespace {

const std::string kVww1 = std::string(MCUNET_TEST_DATA) + "/mcunet-vww1.tflite";

// MACs of mcunet-vww1.tflite, counted independently of this reader by a
// stand-alone Python walk of the raw flatbuffer (conv: OH*OW*OC*KH*KW*IC,
// depthwise: OH*OW*OC*KH*KW, FC: IN*OUT). The paper reports 11.6M MACs.
constexpr int64_t kVww1Macs = 11578816;

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `fn` and returns the mcunet::Error message it throws ("" if none).
std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---- The real model ------------------------------------------------------------

class Vww1Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { graph_ = new Graph(ReadTflite(kVww1)); }
  static void TearDownTestSuite() {
    delete graph_;
    graph_ = nullptr;
  }
  static const Graph& g() { return *graph_; }
  static const Tensor& T(int32_t i) { return graph_->tensors.at(i); }
  static Graph* graph_;
};
Graph* Vww1Test::graph_ = nullptr;

TEST_F(Vww1Test, TensorsAndOpsInFileOrder) {
  EXPECT_EQ(g().name, "mcunet-vww1");
  EXPECT_EQ(g().tensors.size(), 163u);
  ASSERT_EQ(g().ops.size(), 63u);
  for (size_t i = 0; i < g().ops.size(); ++i) EXPECT_EQ(g().ops[i].source_index, static_cast<int>(i));
  ASSERT_EQ(g().inputs.size(), 1u);
  ASSERT_EQ(g().outputs.size(), 1u);
  const Tensor& in = T(g().inputs[0]);
  EXPECT_EQ(in.dtype, DType::kFloat32);
  EXPECT_EQ(in.shape, MakeShape({1, 80, 80, 3}));
  EXPECT_FALSE(in.is_constant);
  const Tensor& out = T(g().outputs[0]);
  EXPECT_EQ(out.dtype, DType::kFloat32);
  EXPECT_EQ(out.shape, MakeShape({1, 2}));
}

TEST_F(Vww1Test, OpKindSequence) {
  const auto& ops = g().ops;
  EXPECT_EQ(ops.front().kind, OpKind::kQuantize);
  EXPECT_EQ(ops[1].kind, OpKind::kPad);
  EXPECT_EQ(ops[2].kind, OpKind::kConv2D);
  EXPECT_EQ(ops[3].kind, OpKind::kDepthwiseConv2D);
  EXPECT_EQ(ops[4].kind, OpKind::kPointwiseConv2D);
  EXPECT_EQ(ops[12].kind, OpKind::kAdd);
  EXPECT_EQ(ops[58].kind, OpKind::kTranspose);
  EXPECT_EQ(ops[59].kind, OpKind::kMean);
  EXPECT_EQ(ops[60].kind, OpKind::kMean);
  EXPECT_EQ(ops[61].kind, OpKind::kFullyConnected);
  EXPECT_EQ(ops.back().kind, OpKind::kDequantize);

  std::map<OpKind, int> count;
  for (const Op& op : ops) ++count[op.kind];
  EXPECT_EQ(count[OpKind::kConv2D], 1);  // only the stem is a k x k conv
  EXPECT_EQ(count[OpKind::kPointwiseConv2D], 29);
  EXPECT_EQ(count[OpKind::kDepthwiseConv2D], 15);
  EXPECT_EQ(count[OpKind::kAdd], 8);
  EXPECT_EQ(count[OpKind::kPad], 4);
  EXPECT_EQ(count[OpKind::kMean], 2);
  EXPECT_EQ(count[OpKind::kTranspose], 1);
  EXPECT_EQ(count[OpKind::kFullyConnected], 1);
  EXPECT_EQ(count[OpKind::kQuantize], 1);
  EXPECT_EQ(count[OpKind::kDequantize], 1);

  // Every op has exactly one output and its data input; conv-like ops their
  // weights and bias; every PAD is followed by a stride-2 VALID conv.
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    EXPECT_GE(op.output, 0);
    EXPECT_GE(op.inputs[0], 0);
    if (op.kind == OpKind::kConv2D || op.kind == OpKind::kPointwiseConv2D || op.kind == OpKind::kDepthwiseConv2D ||
        op.kind == OpKind::kFullyConnected) {
      EXPECT_EQ(op.num_inputs(), 3) << i;
      EXPECT_TRUE(T(op.inputs[1]).is_constant) << i;
      EXPECT_TRUE(T(op.inputs[2]).is_constant) << i;
      EXPECT_EQ(T(op.inputs[2]).dtype, DType::kInt32) << i;
    }
    if (op.kind == OpKind::kPad) {
      ASSERT_LT(i + 1, ops.size());
      EXPECT_EQ(ops[i + 1].inputs[0], op.output);
      EXPECT_EQ(ops[i + 1].padding, Padding::kValid);
      EXPECT_EQ(ops[i + 1].stride_h, 2);
    }
    if (op.kind == OpKind::kPointwiseConv2D) {
      EXPECT_EQ(op.kernel_h, 1);
      EXPECT_EQ(op.stride_h, 1);
      EXPECT_EQ(op.pad_top, 0);
    }
  }
}

TEST_F(Vww1Test, TotalMacs) {
  EXPECT_EQ(g().TotalMacs(), kVww1Macs);
  EXPECT_NEAR(static_cast<double>(g().TotalMacs()), 11.6e6, 0.05e6);

  // Recompute every op's MACs from the tensor shapes.
  int64_t total = 0;
  for (const Op& op : g().ops) {
    const Shape& out = T(op.output).shape;
    int64_t macs = 0;
    if (op.kind == OpKind::kConv2D || op.kind == OpKind::kPointwiseConv2D) {
      const Shape& w = T(op.inputs[1]).shape;
      macs = int64_t{out[1]} * out[2] * out[3] * w[1] * w[2] * w[3];
    } else if (op.kind == OpKind::kDepthwiseConv2D) {
      const Shape& w = T(op.inputs[1]).shape;
      macs = int64_t{out[1]} * out[2] * out[3] * w[1] * w[2];
    } else if (op.kind == OpKind::kFullyConnected) {
      macs = T(op.inputs[1]).shape.elements();
    }
    EXPECT_EQ(op.macs, macs) << "op " << op.source_index;
    total += macs;
  }
  EXPECT_EQ(total, kVww1Macs);
  EXPECT_EQ(g().ops[2].macs, 691200);   // 40*40*16 * 3*3*3
  EXPECT_EQ(g().ops[19].macs, 235200);  // 10*10*48 * 7*7
  EXPECT_EQ(g().ops[61].macs, 320);     // 160 -> 2
}

TEST_F(Vww1Test, ConvParametersAndShapes) {
  // Stem: QUANTIZE -> PAD [1,80,80,3] -> [1,82,82,3] -> 3x3/2 VALID conv.
  const Op& pad = g().ops[1];
  EXPECT_EQ(T(pad.inputs[0]).shape, MakeShape({1, 80, 80, 3}));
  EXPECT_EQ(T(pad.inputs[1]).shape, MakeShape({4, 2}));
  EXPECT_TRUE(T(pad.inputs[1]).is_constant);
  EXPECT_EQ(T(pad.output).shape, MakeShape({1, 82, 82, 3}));

  const Op& stem = g().ops[2];
  EXPECT_EQ(T(stem.inputs[0]).shape, MakeShape({1, 82, 82, 3}));
  EXPECT_EQ(T(stem.inputs[1]).shape, MakeShape({16, 3, 3, 3}));
  EXPECT_EQ(T(stem.output).shape, MakeShape({1, 40, 40, 16}));
  EXPECT_EQ(stem.kernel_h, 3);
  EXPECT_EQ(stem.kernel_w, 3);
  EXPECT_EQ(stem.stride_h, 2);
  EXPECT_EQ(stem.stride_w, 2);
  EXPECT_EQ(stem.dilation_h, 1);
  EXPECT_EQ(stem.padding, Padding::kValid);
  EXPECT_EQ(stem.pad_top, 0);
  EXPECT_EQ(stem.pad_left, 0);
  EXPECT_EQ(stem.activation, Activation::kRelu6);

  // 3x3 stride-1 SAME depthwise: one pixel of padding on top/left.
  const Op& dw = g().ops[3];
  EXPECT_EQ(dw.kind, OpKind::kDepthwiseConv2D);
  EXPECT_EQ(T(dw.inputs[1]).shape, MakeShape({1, 3, 3, 16}));
  EXPECT_EQ(T(dw.output).shape, MakeShape({1, 40, 40, 16}));
  EXPECT_EQ(dw.padding, Padding::kSame);
  EXPECT_EQ(dw.pad_top, 1);
  EXPECT_EQ(dw.pad_left, 1);
  EXPECT_EQ(dw.depth_multiplier, 1);
  EXPECT_EQ(dw.activation, Activation::kRelu6);
  EXPECT_EQ(g().ops[26].kernel_h, 5);  // 5x5 SAME
  EXPECT_EQ(g().ops[26].pad_top, 2);
  EXPECT_EQ(g().ops[34].kernel_h, 7);  // 7x7 SAME
  EXPECT_EQ(g().ops[34].pad_left, 3);

  // 7x7 stride-2 depthwise after an explicit PAD.
  const Op& dw7 = g().ops[19];
  EXPECT_EQ(T(dw7.inputs[0]).shape, MakeShape({1, 26, 26, 48}));
  EXPECT_EQ(T(dw7.output).shape, MakeShape({1, 10, 10, 48}));
  EXPECT_EQ(dw7.kernel_h, 7);
  EXPECT_EQ(dw7.stride_h, 2);
  EXPECT_EQ(dw7.padding, Padding::kValid);

  // Projection (linear) 1x1 and residual ADD.
  EXPECT_EQ(g().ops[4].activation, Activation::kNone);
  const Op& add = g().ops[12];
  EXPECT_EQ(add.num_inputs(), 2);
  EXPECT_EQ(T(add.output).shape, MakeShape({1, 20, 20, 16}));
  EXPECT_EQ(add.macs, 0);

  // Head: TRANSPOSE to NCHW, two MEANs, FC 160 -> 2.
  EXPECT_EQ(T(g().ops[58].output).shape, MakeShape({1, 160, 3, 3}));
  EXPECT_EQ(T(g().ops[59].output).shape, MakeShape({1, 160, 3}));
  EXPECT_EQ(T(g().ops[60].output).shape, MakeShape({1, 160}));
  const Op& fc = g().ops[61];
  EXPECT_EQ(T(fc.inputs[1]).shape, MakeShape({2, 160}));
  EXPECT_EQ(T(fc.output).shape, MakeShape({1, 2}));
}

TEST_F(Vww1Test, Quantization) {
  const Op& stem = g().ops[2];
  const Tensor& w = T(stem.inputs[1]);
  EXPECT_EQ(w.dtype, DType::kInt8);
  EXPECT_EQ(w.quant.scale.size(), 16u);  // per output channel
  EXPECT_EQ(w.quant.zero_point.size(), 16u);
  EXPECT_EQ(w.quant.quantized_dimension, 0);
  const Tensor& bias = T(stem.inputs[2]);
  EXPECT_EQ(bias.quant.scale.size(), 16u);

  const Tensor& dw_w = T(g().ops[3].inputs[1]);
  EXPECT_EQ(dw_w.quant.scale.size(), 16u);
  EXPECT_EQ(dw_w.quant.quantized_dimension, 3);  // depthwise: last dim

  const Tensor& act = T(stem.output);
  EXPECT_EQ(act.dtype, DType::kInt8);
  EXPECT_EQ(act.quant.scale.size(), 1u);  // per tensor
  EXPECT_GT(act.quant.scale[0], 0.0f);
  EXPECT_EQ(T(g().inputs[0]).quant.scale.size(), 0u);  // float input

  for (const Tensor& t : g().tensors) {
    EXPECT_EQ(t.quant.scale.size(), t.quant.zero_point.size()) << t.name;
    if (t.dtype == DType::kInt8 && t.is_constant) {
      for (int64_t zp : t.quant.zero_point) EXPECT_EQ(zp, 0) << t.name;  // symmetric weights
    }
  }
}

TEST_F(Vww1Test, ConstantDataComesFromTheFile) {
  const std::vector<uint8_t> file = ReadBytes(kVww1);
  int constants = 0;
  int64_t weight_bytes = 0;
  for (const Tensor& t : g().tensors) {
    if (!t.is_constant) {
      EXPECT_TRUE(t.data.empty());
      continue;
    }
    ++constants;
    weight_bytes += static_cast<int64_t>(t.data.size());
    EXPECT_EQ(static_cast<int64_t>(t.data.size()), t.bytes()) << t.name;
  }
  EXPECT_EQ(constants, 163 - 64);
  // The stem's weights appear verbatim in the file.
  const Tensor& w = T(g().ops[2].inputs[1]);
  ASSERT_EQ(w.data.size(), 432u);
  EXPECT_NE(std::search(file.begin(), file.end(), w.data.begin(), w.data.end()), file.end());
  EXPECT_GT(weight_bytes, 400000);
  EXPECT_LT(weight_bytes, static_cast<int64_t>(file.size()));
}

TEST_F(Vww1Test, BufferOverloadAgreesAndHandlesMisalignment) {
  const std::vector<uint8_t> file = ReadBytes(kVww1);
  // Same bytes at an odd address: the reader must realign, not read unaligned.
  std::vector<uint8_t> shifted(file.size() + 1);
  std::memcpy(shifted.data() + 1, file.data(), file.size());
  const Graph g2 = ReadTflite(shifted.data() + 1, file.size(), "shifted");
  ASSERT_EQ(g2.ops.size(), g().ops.size());
  ASSERT_EQ(g2.tensors.size(), g().tensors.size());
  EXPECT_EQ(g2.TotalMacs(), kVww1Macs);
  for (size_t i = 0; i < g2.tensors.size(); ++i) {
    EXPECT_EQ(g2.tensors[i].name, g().tensors[i].name);
    EXPECT_EQ(g2.tensors[i].shape, g().tensors[i].shape);
    EXPECT_EQ(g2.tensors[i].data, g().tensors[i].data);
    EXPECT_EQ(g2.tensors[i].quant.scale, g().tensors[i].quant.scale);
  }
}

// ---- Corrupt input -------------------------------------------------------------

TEST(TfliteReaderErrors, EmptyInput) {
  EXPECT_THROW(ReadTflite(nullptr, 0, "empty"), InvalidInput);
  const uint8_t byte = 0;
  EXPECT_THROW(ReadTflite(&byte, 0, "empty"), InvalidInput);
  const auto path = std::filesystem::temp_directory_path() / "mcunet_tflite_reader_empty.tflite";
  { std::ofstream(path, std::ios::binary); }
  const std::string msg = ErrorOf([&] { ReadTflite(path.string()); });
  EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
  EXPECT_THROW(ReadTflite(path.string()), InvalidInput);
  std::filesystem::remove(path);
}

TEST(TfliteReaderErrors, MissingFileAndDirectory) {
  const std::string missing = std::string(MCUNET_TEST_DATA) + "/no-such-model.tflite";
  EXPECT_THROW(ReadTflite(missing), FileNotFound);
  EXPECT_NE(ErrorOf([&] { ReadTflite(missing); }).find("no-such-model.tflite"), std::string::npos);
  EXPECT_THROW(ReadTflite(std::string(MCUNET_TEST_DATA)), FileNotFound);
}

TEST(TfliteReaderErrors, WrongIdentifier) {
  std::vector<uint8_t> file = ReadBytes(kVww1);
  std::memcpy(file.data() + 4, "ABCD", 4);
  const std::string msg = ErrorOf([&] { ReadTflite(file.data(), file.size(), "renamed.bin"); });
  EXPECT_NE(msg.find("renamed.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ABCD"), std::string::npos) << msg;
  EXPECT_NE(msg.find("TFL3"), std::string::npos) << msg;
  EXPECT_THROW(ReadTflite(file.data(), file.size(), "renamed.bin"), InvalidInput);

  const std::string text = "this is not a flatbuffer at all";
  EXPECT_THROW(ReadTflite(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "text"), InvalidInput);
}

TEST(TfliteReaderErrors, TruncatedFiles) {
  const std::vector<uint8_t> file = ReadBytes(kVww1);
  int tried = 0;
  for (size_t len = 0; len < file.size(); len += 997) {
    // An exact-size heap copy, so a read past the end is caught by ASan.
    const std::vector<uint8_t> cut(file.begin(), file.begin() + len);
    const std::string msg = ErrorOf([&] { ReadTflite(cut.data(), cut.size(), "cut.tflite"); });
    EXPECT_FALSE(msg.empty()) << "truncation to " << len << " bytes was accepted";
    EXPECT_EQ(msg.rfind("cut.tflite: ", 0), 0u) << msg;
    ++tried;
  }
  EXPECT_GT(tried, 600);
  // The file ends with the last tensor name, "fuse_attr_64", its NUL and 3
  // bytes of alignment padding: dropping the padding is harmless, dropping the
  // NUL is not.
  for (size_t cut = 1; cut <= 3; ++cut) {
    const std::vector<uint8_t> shorter(file.begin(), file.end() - cut);
    EXPECT_NO_THROW(ReadTflite(shorter.data(), shorter.size(), "cut")) << cut;
  }
  const std::vector<uint8_t> no_nul(file.begin(), file.end() - 4);
  const std::string msg = ErrorOf([&] { ReadTflite(no_nul.data(), no_nul.size(), "cut"); });
  EXPECT_NE(msg.find("tensor #0 (table at byte "), std::string::npos) << msg;
}

TEST(TfliteReaderErrors, TruncationNamesTheOffset) {
  const std::vector<uint8_t> file = ReadBytes(kVww1);
  const std::vector<uint8_t> cut(file.begin(), file.begin() + file.size() / 2);
  const std::string msg = ErrorOf([&] { ReadTflite(cut.data(), cut.size(), "half.tflite"); });
  EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte"), std::string::npos) << msg;
}

TEST(TfliteReaderErrors, RandomByteFlipsNeverCrash) {
  const std::vector<uint8_t> file = ReadBytes(kVww1);
  std::mt19937 rng(20240611);
  // The tables (not the weights) live in the first ~1.7 kB and the last
  // ~165 kB of this file; aim half of the mutations there.
  const size_t head = 2048;
  const size_t tail_start = file.size() - file.size() / 4;
  int parsed = 0;
  int rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> bad = file;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      size_t pos = 0;
      switch (trial % 3) {
        case 0: pos = rng() % file.size(); break;
        case 1: pos = rng() % head; break;
        default: pos = tail_start + rng() % (file.size() - tail_start); break;
      }
      bad[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    try {
      const Graph g = ReadTflite(bad.data(), bad.size(), "mutant");
      ++parsed;
    } catch (const Error& e) {
      ++rejected;
      EXPECT_EQ(std::string(e.what()).rfind("mutant: ", 0), 0u) << e.what();
    }
    // Anything else (another exception type, a crash, UB) fails the test.
  }
  EXPECT_EQ(parsed + rejected, 400);
  EXPECT_GT(rejected, 20);
  EXPECT_GT(parsed, 20);
}

// ---- Tiny models built with the flatbuffers builder -----------------------------

struct TensorSpec {
  std::vector<int32_t> shape;
  tflite::TensorType type = tflite::TensorType::INT8;
  std::vector<uint8_t> data;  // constant contents, empty for activations
  std::vector<float> scale;
  std::vector<int64_t> zero_point;  // all zero (one per scale) when empty
  int32_t quantized_dimension = 0;
  int32_t buffer = -1;  // override the buffer index (for corrupt models)
  // Data outside the flatbuffer (the >2 GB layout): file offset and size.
  uint64_t external_offset = 0;
  uint64_t external_size = 0;
  std::vector<int32_t> shape_signature;  // empty: none
};

struct OpSpec {
  tflite::BuiltinOperator code;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  tflite::BuiltinOptions options_type = tflite::BuiltinOptions::NONE;
  std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)> options;
};

struct ModelSpec {
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
  std::vector<int32_t> inputs{0};
  std::vector<int32_t> outputs;
  int num_subgraphs = 1;
  uint32_t version = 3;
};

std::vector<uint8_t> Build(const ModelSpec& spec) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<tflite::Buffer>> buffers{tflite::CreateBuffer(fbb)};
  std::vector<flatbuffers::Offset<tflite::Tensor>> tensors;
  for (size_t i = 0; i < spec.tensors.size(); ++i) {
    const TensorSpec& t = spec.tensors[i];
    uint32_t buffer = 0;
    if (!t.data.empty()) {
      fbb.ForceVectorAlignment(t.data.size(), sizeof(uint8_t), 16);
      buffers.push_back(tflite::CreateBuffer(fbb, fbb.CreateVector(t.data)));
      buffer = static_cast<uint32_t>(buffers.size() - 1);
    }
    if (t.external_size > 0) {
      buffers.push_back(tflite::CreateBuffer(fbb, 0, t.external_offset, t.external_size));
      buffer = static_cast<uint32_t>(buffers.size() - 1);
    }
    if (t.buffer >= 0) buffer = static_cast<uint32_t>(t.buffer);
    flatbuffers::Offset<tflite::QuantizationParameters> quant;
    if (!t.scale.empty()) {
      std::vector<int64_t> zero = t.zero_point;
      if (zero.empty()) zero.assign(t.scale.size(), 0);
      quant = tflite::CreateQuantizationParametersDirect(fbb, nullptr, nullptr, &t.scale, &zero,
                                                         tflite::QuantizationDetails::NONE, 0,
                                                         t.quantized_dimension);
    }
    const std::string name = "t" + std::to_string(i);
    tensors.push_back(tflite::CreateTensorDirect(fbb, &t.shape, t.type, buffer, name.c_str(), quant, false, 0,
                                                 t.shape_signature.empty() ? nullptr : &t.shape_signature));
  }
  std::vector<flatbuffers::Offset<tflite::OperatorCode>> codes;
  std::vector<flatbuffers::Offset<tflite::Operator>> ops;
  for (size_t i = 0; i < spec.ops.size(); ++i) {
    const OpSpec& op = spec.ops[i];
    const int32_t code = static_cast<int32_t>(op.code);
    const int8_t deprecated = static_cast<int8_t>(std::min(code, 127));
    codes.push_back(tflite::CreateOperatorCode(fbb, deprecated, 0, 1, op.code));
    const flatbuffers::Offset<void> options = op.options ? op.options(fbb) : flatbuffers::Offset<void>();
    ops.push_back(tflite::CreateOperatorDirect(fbb, static_cast<uint32_t>(i), &op.inputs, &op.outputs,
                                               op.options_type, options));
  }
  std::vector<flatbuffers::Offset<tflite::SubGraph>> subgraphs;
  for (int s = 0; s < spec.num_subgraphs; ++s) {
    subgraphs.push_back(tflite::CreateSubGraphDirect(fbb, &tensors, &spec.inputs, &spec.outputs, &ops, "main"));
  }
  const auto model = tflite::CreateModelDirect(fbb, spec.version, &codes, &subgraphs, "test model", &buffers);
  tflite::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

Graph Parse(const std::vector<uint8_t>& bytes) { return ReadTflite(bytes.data(), bytes.size(), "tiny.tflite"); }

std::vector<uint8_t> Zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

OpSpec Conv(std::vector<int32_t> inputs, int32_t output, tflite::Padding padding, int stride,
            tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE) {
  OpSpec op{tflite::BuiltinOperator::CONV_2D, std::move(inputs), {output}, tflite::BuiltinOptions::Conv2DOptions, {}};
  op.options = [=](flatbuffers::FlatBufferBuilder& fbb) {
    return tflite::CreateConv2DOptions(fbb, padding, stride, stride, act).Union();
  };
  return op;
}

// input [1,H,H,4] -> conv KxK/stride -> output [1,OH,OH,8].
ModelSpec ConvModel(int h, int k, int stride, tflite::Padding padding, int oh) {
  ModelSpec m;
  m.tensors = {{{1, h, h, 4}, tflite::TensorType::INT8, {}, {0.5f}},
               {{8, k, k, 4}, tflite::TensorType::INT8, Zeros(8 * k * k * 4), std::vector<float>(8, 0.1f)},
               {{8}, tflite::TensorType::INT32, Zeros(8 * 4), std::vector<float>(8, 0.05f)},
               {{1, oh, oh, 8}, tflite::TensorType::INT8, {}, {0.25f}}};
  m.ops = {Conv({0, 1, 2}, 3, padding, stride, tflite::ActivationFunctionType::RELU)};
  m.outputs = {3};
  return m;
}

TEST(TfliteReaderTiny, SameConvPaddingFollowsTflite) {
  // 7x7, k3, s2 SAME -> 4x4; total pad (4-1)*2+3-7 = 2, top 1.
  Graph g = Parse(Build(ConvModel(7, 3, 2, tflite::Padding::SAME, 4)));
  ASSERT_EQ(g.ops.size(), 1u);
  const Op& op = g.ops[0];
  EXPECT_EQ(op.kind, OpKind::kConv2D);
  EXPECT_EQ(op.pad_top, 1);
  EXPECT_EQ(op.pad_left, 1);
  EXPECT_EQ(op.activation, Activation::kRelu);
  EXPECT_EQ(op.macs, 4 * 4 * 8 * 3 * 3 * 4);
  EXPECT_EQ(g.tensors[1].quant.scale.size(), 8u);
  EXPECT_TRUE(g.tensors[1].is_constant);
  EXPECT_FALSE(g.tensors[0].is_constant);
  EXPECT_EQ(g.name, "tiny");  // from the source name, not the subgraph's "main"

  // 8x8, k3, s2 SAME -> 4x4; total pad 1: TFLite puts it at the bottom/right.
  g = Parse(Build(ConvModel(8, 3, 2, tflite::Padding::SAME, 4)));
  EXPECT_EQ(g.ops[0].pad_top, 0);
  EXPECT_EQ(g.ops[0].pad_left, 0);

  // 1x1 stride 1 -> pointwise.
  g = Parse(Build(ConvModel(5, 1, 1, tflite::Padding::SAME, 5)));
  EXPECT_EQ(g.ops[0].kind, OpKind::kPointwiseConv2D);
  EXPECT_EQ(g.ops[0].macs, 5 * 5 * 8 * 4);
  // 1x1 stride 2 stays a general conv.
  g = Parse(Build(ConvModel(6, 1, 2, tflite::Padding::VALID, 3)));
  EXPECT_EQ(g.ops[0].kind, OpKind::kConv2D);
}

TEST(TfliteReaderTiny, InconsistentOutputShapeIsRejected) {
  const std::string msg = ErrorOf([] { Parse(Build(ConvModel(7, 3, 2, tflite::Padding::VALID, 4))); });
  EXPECT_NE(msg.find("operator #0 (CONV_2D)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("output height"), std::string::npos) << msg;
}

TEST(TfliteReaderTiny, UnsupportedOpNamesOpAndIndex) {
  ModelSpec m;
  m.tensors = {{{1, 4}, tflite::TensorType::FLOAT32},
               {{1, 4}, tflite::TensorType::INT8, {}, {0.1f}},
               {{1, 8}, tflite::TensorType::INT8, {}, {0.1f}}};
  m.ops = {{tflite::BuiltinOperator::QUANTIZE, {0}, {1}},
           {tflite::BuiltinOperator::CONCATENATION, {1, 1}, {2}, tflite::BuiltinOptions::ConcatenationOptions,
            [](flatbuffers::FlatBufferBuilder& fbb) { return tflite::CreateConcatenationOptions(fbb, 1).Union(); }}};
  m.outputs = {2};
  const std::vector<uint8_t> bytes = Build(m);
  EXPECT_THROW(Parse(bytes), Unsupported);
  EXPECT_EQ(ErrorOf([&] { Parse(bytes); }), "tiny.tflite: operator #1 uses unsupported op CONCATENATION");

  // A code above 127 lives only in the int32 field.
  m.ops[1] = {tflite::BuiltinOperator::CUMSUM, {1}, {2}};
  EXPECT_EQ(ErrorOf([&] { Parse(Build(m)); }), "tiny.tflite: operator #1 uses unsupported op CUMSUM");
}

TEST(TfliteReaderTiny, SmallClassifierHead) {
  // QUANTIZE -> AVERAGE_POOL_2D 2x2/2 -> RESHAPE -> FC -> SOFTMAX -> DEQUANTIZE.
  ModelSpec m;
  m.tensors = {{{1, 4, 4, 6}, tflite::TensorType::FLOAT32},
               {{1, 4, 4, 6}, tflite::TensorType::INT8, {}, {0.1f}},
               {{1, 2, 2, 6}, tflite::TensorType::INT8, {}, {0.1f}},
               {{1, 24}, tflite::TensorType::INT8, {}, {0.1f}},
               {{3, 24}, tflite::TensorType::INT8, Zeros(72), {0.01f}},
               {{1, 3}, tflite::TensorType::INT8, {}, {0.2f}},
               {{1, 3}, tflite::TensorType::INT8, {}, {1.0f / 256}},
               {{1, 3}, tflite::TensorType::FLOAT32}};
  OpSpec pool{tflite::BuiltinOperator::AVERAGE_POOL_2D, {1}, {2}, tflite::BuiltinOptions::Pool2DOptions,
              [](flatbuffers::FlatBufferBuilder& fbb) {
                return tflite::CreatePool2DOptions(fbb, tflite::Padding::VALID, 2, 2, 2, 2).Union();
              }};
  OpSpec fc{tflite::BuiltinOperator::FULLY_CONNECTED, {3, 4, -1}, {5}, tflite::BuiltinOptions::FullyConnectedOptions,
            [](flatbuffers::FlatBufferBuilder& fbb) {
              return tflite::CreateFullyConnectedOptions(fbb, tflite::ActivationFunctionType::RELU6).Union();
            }};
  m.ops = {{tflite::BuiltinOperator::QUANTIZE, {0}, {1}},
           pool,
           {tflite::BuiltinOperator::RESHAPE, {2}, {3}},
           fc,
           {tflite::BuiltinOperator::SOFTMAX, {5}, {6}},
           {tflite::BuiltinOperator::DEQUANTIZE, {6}, {7}}};
  m.outputs = {7};
  const Graph g = Parse(Build(m));
  ASSERT_EQ(g.ops.size(), 6u);
  EXPECT_EQ(g.ops[1].kind, OpKind::kAveragePool2D);
  EXPECT_EQ(g.ops[1].kernel_h, 2);
  EXPECT_EQ(g.ops[1].stride_w, 2);
  EXPECT_EQ(g.ops[1].macs, 0);
  EXPECT_EQ(g.ops[2].kind, OpKind::kReshape);
  EXPECT_EQ(g.ops[3].kind, OpKind::kFullyConnected);
  EXPECT_EQ(g.ops[3].inputs[2], -1);  // no bias
  EXPECT_EQ(g.ops[3].num_inputs(), 2);
  EXPECT_EQ(g.ops[3].activation, Activation::kRelu6);
  EXPECT_EQ(g.ops[3].macs, 72);
  EXPECT_EQ(g.ops[4].kind, OpKind::kSoftmax);
  EXPECT_EQ(g.ops[5].kind, OpKind::kDequantize);
  EXPECT_EQ(g.TotalMacs(), 72);
}

TEST(TfliteReaderTiny, MisalignedInt64VectorIsReadSafely) {
  // The flatbuffers verifier checks only 4-byte alignment of vectors. Build
  // zero points {1, 7} and move their offset forward by 4 bytes: the vector
  // then has length 1 (the low half of 1) and its one int64, made of the high
  // half of 1 and the low half of 7, sits at an address that is 4 mod 8.
  // UBSan flags a direct load there; the reader must copy the bytes.
  ModelSpec m = ConvModel(7, 3, 2, tflite::Padding::SAME, 4);
  m.tensors[0].scale = {0.5f};
  m.tensors[0].zero_point = {1, 7};
  std::vector<uint8_t> bytes = Build(m);
  const tflite::Model* model = tflite::GetModel(bytes.data());
  const tflite::QuantizationParameters* q = model->subgraphs()->Get(0)->tensors()->Get(0)->quantization();
  const uint8_t* field =
      reinterpret_cast<const flatbuffers::Table*>(q)->GetAddressOf(tflite::QuantizationParameters::VT_ZERO_POINT);
  ASSERT_NE(field, nullptr);
  const size_t at = static_cast<size_t>(field - bytes.data());
  uint32_t offset = 0;
  std::memcpy(&offset, bytes.data() + at, 4);
  offset += 4;
  std::memcpy(bytes.data() + at, &offset, 4);
  const Graph g = Parse(bytes);
  ASSERT_EQ(g.tensors[0].quant.zero_point.size(), 1u);
  EXPECT_EQ(g.tensors[0].quant.zero_point[0], int64_t{7} << 32);
}

TEST(TfliteReaderTiny, ExternalBufferData) {
  // The bias lives after the flatbuffer, found by Buffer.offset/size.
  ModelSpec m = ConvModel(7, 3, 2, tflite::Padding::SAME, 4);
  m.tensors[2].data.clear();
  m.tensors[2].external_offset = 2;  // placeholder of the same encoded size
  m.tensors[2].external_size = 32;
  const size_t flatbuffer_size = Build(m).size();
  m.tensors[2].external_offset = flatbuffer_size;
  std::vector<uint8_t> bytes = Build(m);
  ASSERT_EQ(bytes.size(), flatbuffer_size);
  for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<uint8_t>(i));
  const Graph g = Parse(bytes);
  EXPECT_TRUE(g.tensors[2].is_constant);
  ASSERT_EQ(g.tensors[2].data.size(), 32u);
  EXPECT_EQ(g.tensors[2].data[31], 31);

  // Cut the appended data short: the reader must notice, not read past the end.
  bytes.resize(bytes.size() - 1);
  const std::string msg = ErrorOf([&] { Parse(bytes); });
  EXPECT_NE(msg.find("outside the"), std::string::npos) << msg;
}

TEST(TfliteReaderTiny, StructuralErrorsAreClear) {
  struct Case {
    const char* what;
    std::function<void(ModelSpec&)> mutate;
    const char* expect;  // substring of the message
    bool unsupported;
  };
  const std::vector<Case> cases = {
      {"rank 5", [](ModelSpec& m) { m.tensors[0].shape = {1, 1, 7, 7, 4}; }, "rank 5", false},
      {"zero dim", [](ModelSpec& m) { m.tensors[3].shape = {1, 0, 4, 8}; }, "dimension 1 is 0", false},
      {"negative dim", [](ModelSpec& m) { m.tensors[0].shape = {1, -7, 7, 4}; }, "dimension 1 is -7", false},
      {"input out of range", [](ModelSpec& m) { m.ops[0].inputs[0] = 9; }, "input 0 refers to tensor 9", false},
      {"negative input", [](ModelSpec& m) { m.ops[0].inputs[1] = -5; }, "refers to tensor -5", false},
      {"missing weights", [](ModelSpec& m) { m.ops[0].inputs[1] = -1; }, "lacks its required input 1", false},
      {"output out of range", [](ModelSpec& m) { m.ops[0].outputs[0] = 4; }, "output refers to tensor 4", false},
      {"two outputs", [](ModelSpec& m) { m.ops[0].outputs = {3, 3}; }, "2 outputs", false},
      {"four inputs", [](ModelSpec& m) { m.ops[0].inputs = {0, 1, 2, 2}; }, "4 inputs", false},
      {"graph input", [](ModelSpec& m) { m.inputs = {17}; }, "subgraph input refers to tensor 17", false},
      {"buffer index", [](ModelSpec& m) { m.tensors[1].buffer = 50; }, "refers to buffer 50", false},
      {"data size", [](ModelSpec& m) { m.tensors[2].data = Zeros(7); }, "holds 7", false},
      {"scale count", [](ModelSpec& m) { m.tensors[1].scale = {0.1f, 0.2f, 0.3f}; }, "3 per-channel scales", false},
      {"bad filter", [](ModelSpec& m) { m.tensors[1].shape = {8, 3, 3, 3}; m.tensors[1].data = Zeros(216); },
       "does not match input", false},
      {"grouped conv", [](ModelSpec& m) { m.tensors[1].shape = {8, 3, 3, 2}; m.tensors[1].data = Zeros(144); },
       "grouped convolution", true},
      {"tanh", [](ModelSpec& m) { m.ops[0] = Conv({0, 1, 2}, 3, tflite::Padding::SAME, 2,
                                                   tflite::ActivationFunctionType::TANH); },
       "fused activation TANH", true},
      {"stride 0", [](ModelSpec& m) { m.ops[0] = Conv({0, 1, 2}, 3, tflite::Padding::SAME, 0); }, "stride", false},
      {"no options", [](ModelSpec& m) { m.ops[0].options = {}; m.ops[0].options_type = tflite::BuiltinOptions::NONE; },
       "lacks its Conv2DOptions", false},
      {"bool tensor", [](ModelSpec& m) { m.tensors[3].type = tflite::TensorType::BOOL; }, "type BOOL", true},
      {"two subgraphs", [](ModelSpec& m) { m.num_subgraphs = 2; }, "2 subgraphs", true},
      {"no subgraph", [](ModelSpec& m) { m.num_subgraphs = 0; }, "no subgraph", false},
      {"version", [](ModelSpec& m) { m.version = 2; }, "schema version 2", true},
      {"read before write", [](ModelSpec& m) { m.inputs = {}; }, "tensor 0", false},
      // The bad-input list of the TinyEngine issue.
      {"int16 tensors", [](ModelSpec& m) { m.tensors[0].type = tflite::TensorType::INT16; },
       "operator #0 (CONV_2D): tensor #0 't0' is INT16", true},
      {"dynamic shape", [](ModelSpec& m) { m.tensors[0].shape_signature = {-1, 7, 7, 4}; },
       "tensor #0 't0' has a dynamic shape (shape_signature dimension 0 is -1", true},
      {"per-tensor bias, per-channel filter", [](ModelSpec& m) { m.tensors[2].scale = {0.05f}; },
       "operator #0 (CONV_2D): bias tensor #2 't2' has 1 scale(s) but the filter tensor #1 't1' has 8 "
       "(per-tensor where per-channel is expected)", false},
      {"per-channel on the wrong axis",
       [](ModelSpec& m) {
         m.tensors[0].shape = {1, 7, 7, 8};
         m.tensors[1].shape = {8, 3, 3, 8};
         m.tensors[1].data = Zeros(8 * 3 * 3 * 8);
         m.tensors[1].quantized_dimension = 3;
       },
       "operator #0 (CONV_2D): filter tensor #1 't1' is quantised per channel along dimension 3, expected 0", false},
      {"per-channel activation",
       [](ModelSpec& m) {
         m.tensors[3].scale = std::vector<float>(8, 0.25f);
         m.tensors[3].quantized_dimension = 3;
       },
       "tensor #3 't3' is an activation with 8 per-channel scales", false},
      {"unquantised int8 filter", [](ModelSpec& m) { m.tensors[1].scale = {}; },
       "operator #0 (CONV_2D): int8 filter tensor #1 't1' has no quantisation scales", false},
  };
  for (const Case& c : cases) {
    ModelSpec m = ConvModel(7, 3, 2, tflite::Padding::SAME, 4);
    ASSERT_NO_THROW(Parse(Build(m)));
    c.mutate(m);
    const std::vector<uint8_t> bytes = Build(m);
    std::string msg;
    bool unsupported = false;
    try {
      Parse(bytes);
    } catch (const Unsupported& e) {
      msg = e.what();
      unsupported = true;
    } catch (const InvalidInput& e) {
      msg = e.what();
    }
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.what << ": '" << msg << "'";
    EXPECT_EQ(msg.rfind("tiny.tflite: ", 0), 0u) << c.what << ": '" << msg << "'";
    EXPECT_EQ(unsupported, c.unsupported) << c.what << ": '" << msg << "'";
  }
}

TEST(TfliteReaderErrors, FuzzRegressionsAreRejectedCleanly) {
  // Every input libFuzzer once crashed the reader on (tests/fuzz/regressions,
  // see scripts/fuzz-tflite) now parses or is a clean mcunet::Error.
  const std::filesystem::path dir = MCUNET_SOURCE_DIR "/tests/fuzz/regressions";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.' ||
        entry.path().extension() == ".md") {
      continue;
    }
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      const Graph g = ReadTflite(bytes.data(), bytes.size(), entry.path().filename().string());
      const CostReport r = EvaluateCost(g, "tinyengine");
      GenerateCode(r);
    } catch (const Error&) {
    }
  }
  std::printf("%d fuzz regression inputs\n", files);
}

}  // namespace
}  // namespace mcunet
