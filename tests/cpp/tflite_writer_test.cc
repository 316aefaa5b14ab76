// .tflite writer: a quantised model written and read back plans and runs
// exactly as the in-memory graph (int8 and float I/O), vww1 survives a
// read -> write -> read round trip, and unwritable graphs are named errors.
#include "mcunet/tflite_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <span>
#include <string>
#include <vector>

#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/passes.h"
#include "mcunet/ptq.h"
#include "mcunet/tflite_reader.h"
#include "random_float_model.h"
#include "tflite_schema_generated.h"

namespace mcunet {
namespace {

const std::string kSpaces = MCUNET_SOURCE_DIR "/search_spaces/";
const std::string kRuntimeDir = MCUNET_SOURCE_DIR "/engine/runtime";
const std::string kVww1 = MCUNET_TEST_DATA "/mcunet-vww1.tflite";

Graph QuantizedRandomModel(const std::string& space, double width, int res, uint64_t seed, FloatModel* fm = nullptr) {
  const Arch arch = SampleArch(kSpaces + space, width, res, seed, 10);
  const FloatModel m = RandomFloatModel(arch, seed);
  ImageDataset calib;
  calib.height = calib.width = arch.resolution;
  calib.channels = arch.in_channels;
  calib.pixels = RandomImages(arch.resolution, arch.in_channels, 16, seed + 100);
  calib.labels.assign(16, 0);
  if (fm != nullptr) *fm = m;
  return QuantizeModel(m, NormalizeImages(m, calib), 16);
}

std::vector<int8_t> RandomInt8(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(rng.Next() & 0xff);
  return v;
}

std::vector<std::string> OpNames(const std::vector<uint8_t>& bytes) {
  const tflite::Model* m = tflite::GetModel(bytes.data());
  std::vector<std::string> names;
  for (const tflite::Operator* op : *m->subgraphs()->Get(0)->operators()) {
    const tflite::OperatorCode* c = m->operator_codes()->Get(op->opcode_index());
    names.push_back(tflite::EnumNameBuiltinOperator(c->builtin_code()));
  }
  return names;
}

// Plans and runs `a` and `b` (already read back) on the same inputs: same
// plan figures, same per-op overlaps, same outputs.
void ExpectSamePlanAndOutputs(const Graph& a, const Graph& b, uint64_t seed) {
  const CostReport ra = EvaluateCost(a, "tinyengine");
  const CostReport rb = EvaluateCost(b, "tinyengine");
  EXPECT_EQ(ra.plan.arena_bytes, rb.plan.arena_bytes);
  EXPECT_EQ(ra.plan.scratch_bytes, rb.plan.scratch_bytes);
  EXPECT_EQ(ra.peak_sram_bytes(), rb.peak_sram_bytes());
  EXPECT_EQ(ra.flash_bytes(), rb.flash_bytes());
  ASSERT_EQ(ra.graph.ops.size(), rb.graph.ops.size());
  for (size_t k = 0; k < ra.plan.ops.size(); ++k) {
    EXPECT_EQ(ra.plan.ops[k].overlap, rb.plan.ops[k].overlap) << "op " << k;
    EXPECT_EQ(ra.plan.ops[k].live_bytes, rb.plan.ops[k].live_bytes) << "op " << k;
    EXPECT_EQ(ra.graph.ops[k].kind, rb.graph.ops[k].kind) << "op " << k;
    EXPECT_EQ(ra.graph.ops[k].pad_top, rb.graph.ops[k].pad_top) << "op " << k;
    EXPECT_EQ(ra.graph.ops[k].pad_left, rb.graph.ops[k].pad_left) << "op " << k;
  }
  const GeneratedCode ca = GenerateCode(ra);
  const GeneratedCode cb = GenerateCode(rb);
  EXPECT_EQ(ca.const_bytes, cb.const_bytes);
  EXPECT_EQ(ca.kernels, cb.kernels);
  ASSERT_EQ(ca.input_bytes, cb.input_bytes);
  const std::vector<int8_t> in = RandomInt8(ca.input_bytes * 3, seed);
  HostRunOptions ro;
  ro.runtime_dir = kRuntimeDir;
  const HostRunResult oa = RunOnHost(ca, in, ro);
  const HostRunResult ob = RunOnHost(cb, in, ro);
  EXPECT_EQ(oa.outputs, ob.outputs);
}

TEST(TfliteWriter, Int8ModelRoundTripsWithTheSamePlanAndOutputs) {
  for (const auto& [space, width, res, seed] :
       std::vector<std::tuple<std::string, double, int, uint64_t>>{{"fmnist_small.json", 0.5, 28, 1},
                                                                   {"mcunet.json", 0.3, 48, 2}}) {
    const Graph g = QuantizedRandomModel(space, width, res, seed);
    SCOPED_TRACE(g.name);
    const std::vector<uint8_t> bytes = WriteTflite(g);
    const std::vector<std::string> names = OpNames(bytes);
    EXPECT_TRUE(names.front() == "CONV_2D" || names.front() == "PAD") << names.front();
    EXPECT_EQ(names.back(), "FULLY_CONNECTED");
    EXPECT_NE(std::find(names.begin(), names.end(), "DEPTHWISE_CONV_2D"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "MEAN"), names.end());
    const Graph back = ReadTflite(bytes.data(), bytes.size(), "<written>");
    EXPECT_EQ(back.tensors[back.inputs[0]].dtype, DType::kInt8);
    EXPECT_EQ(back.tensors[back.inputs[0]].quant.scale, g.tensors[g.inputs[0]].quant.scale);
    EXPECT_EQ(back.tensors[back.inputs[0]].quant.zero_point, g.tensors[g.inputs[0]].quant.zero_point);
    ExpectSamePlanAndOutputs(g, back, seed);
  }
}

TEST(TfliteWriter, StrideTwoOnEvenInputsIsWrittenAsPadPlusValidConv) {
  // PyTorch-style padding k/2 on a stride-2 conv over an even size is not
  // TFLite SAME (which pads bottom/right): the writer adds a PAD.
  const Graph g = QuantizedRandomModel("mcunet.json", 0.3, 48, 2);
  const std::vector<uint8_t> bytes = WriteTflite(g);
  const std::vector<std::string> names = OpNames(bytes);
  EXPECT_EQ(names.front(), "PAD");
  const Graph back = ReadTflite(bytes.data(), bytes.size(), "<written>");
  EXPECT_TRUE(NeedsInt8InputFold(back));
}

TEST(TfliteWriter, FloatIoAddsQuantizeAndDequantizeAndFoldsBack) {
  const Graph g = QuantizedRandomModel("fmnist_small.json", 0.5, 32, 3);
  TfliteWriteOptions o;
  o.float_io = true;
  const std::vector<uint8_t> bytes = WriteTflite(g, o);
  const std::vector<std::string> names = OpNames(bytes);
  EXPECT_EQ(names.front(), "QUANTIZE");
  EXPECT_EQ(names.back(), "DEQUANTIZE");
  const Graph back = ReadTflite(bytes.data(), bytes.size(), "<written>");
  EXPECT_EQ(back.tensors[back.inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(back.tensors[back.outputs[0]].dtype, DType::kFloat32);
  ExpectSamePlanAndOutputs(g, back, 3);
}

TEST(TfliteWriter, Vww1SurvivesReadWriteRead) {
  const Graph a = ReadTflite(kVww1);
  const std::vector<uint8_t> bytes = WriteTflite(a);
  const Graph b = ReadTflite(bytes.data(), bytes.size(), "<vww1 rewritten>");
  ASSERT_EQ(a.ops.size(), b.ops.size());
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    EXPECT_EQ(a.tensors[t].data, b.tensors[t].data) << t;
    EXPECT_EQ(a.tensors[t].quant.scale, b.tensors[t].quant.scale) << t;
    EXPECT_EQ(a.tensors[t].quant.zero_point, b.tensors[t].quant.zero_point) << t;
    EXPECT_TRUE(a.tensors[t].shape == b.tensors[t].shape) << t;
  }
  ExpectSamePlanAndOutputs(a, b, 4);
}

TEST(TfliteWriter, WritesAFileAndNamesWhatItCannotWrite) {
  Graph g = QuantizedRandomModel("fmnist_small.json", 0.5, 28, 5);
  const std::string path = testing::TempDir() + "/writer_" + std::to_string(getpid()) + ".tflite";
  WriteTfliteFile(g, path);
  EXPECT_EQ(FoldInt8Input(ReadTflite(path)).ops.size(), g.ops.size());
  std::filesystem::remove(path);
  EXPECT_THROW(WriteTfliteFile(g, "/nonexistent-dir/x.tflite"), FileNotFound);

  Graph no_quant = g;
  no_quant.tensors[no_quant.ops[2].output].quant = {};
  try {
    WriteTflite(no_quant);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("op 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("quantisation"), std::string::npos) << e.what();
  }
  Graph no_weights = g;
  no_weights.tensors[no_weights.ops[1].inputs[1]].data.clear();
  try {
    WriteTflite(no_weights);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("op 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("weights"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mcunet
