// `mcunet quantize` and `mcunet codegen --float-model`: a float model JSON and
// Fashion-MNIST become an int8 .tflite (int8 or float I/O) with float vs int8
// top-1 reported; bad input is exit code 2 naming the file / field.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "mcunet/dataset.h"
#include "mcunet/float_model.h"
#include "mcunet/graph.h"
#include "mcunet/tflite_reader.h"
#include "random_float_model.h"

namespace mcunet {
namespace {

namespace fs = std::filesystem;

struct Shell {
  int status = -1;
  std::string out;
};

Shell RunCli(const std::string& args) {
  Shell r;
  FILE* p = popen((std::string(MCUNET_CLI) + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class QuantizeCli : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "Fashion-MNIST (Debian dataset-fashion-mnist) is not installed";
    }
    dir_ = (fs::path(testing::TempDir()) / ("mcunet_quantize_cli_" + std::to_string(getpid()))).string();
    fs::create_directories(dir_);
    const Arch arch = SampleArch(MCUNET_SOURCE_DIR "/search_spaces/fmnist_small.json", 0.5, 32, 4, 10);
    model_ = dir_ + "/float_model.json";
    SaveFloatModel(RandomFloatModel(arch, 4), model_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  std::string dir_, model_;
};

TEST_F(QuantizeCli, WritesTfliteAndReportsFloatAndInt8Top1) {
  const std::string out = dir_ + "/m.tflite";
  const Shell r = RunCli("quantize --float-model " + model_ +
                      " --data fashion-mnist --calib-images 64 --val-count 1000 --eval-images 200 --json --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  for (const char* split : {"val", "test"}) {
    EXPECT_EQ(j[split]["images"].get<int>(), 200) << split;
    EXPECT_GE(j[split]["float_top1"].get<double>(), 0.0);
    EXPECT_LE(j[split]["int8_top1"].get<double>(), 100.0);
    EXPECT_GE(j[split]["argmax_agreement"].get<double>(), 50.0) << r.out;
  }
  const Graph g = ReadTflite(out);
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::kInt8);
  EXPECT_EQ(j["calibration_images"].get<int>(), 64);

  const std::string out_f = dir_ + "/mf.tflite";
  const Shell rf = RunCli("quantize --float-model " + model_ +
                       " --data fashion-mnist --calib-images 32 --val-count 1000 --no-eval --float-io --out " + out_f);
  ASSERT_EQ(rf.status, 0) << rf.out;
  EXPECT_NE(rf.out.find("float I/O"), std::string::npos) << rf.out;
  const Graph gf = ReadTflite(out_f);
  EXPECT_EQ(gf.tensors[gf.inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(gf.ops.front().kind, OpKind::kQuantize);
  EXPECT_EQ(gf.ops.back().kind, OpKind::kDequantize);
}

TEST_F(QuantizeCli, CodegenFromAFloatModel) {
  const std::string out = dir_ + "/gen";
  const Shell r = RunCli("codegen --float-model " + model_ + " --data fashion-mnist --calib-images 32 --val-count 1000 " +
                      "--board stm32f746 --out " + out + " --tflite-out " + dir_ + "/g.tflite");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(out + "/model.c"));
  EXPECT_TRUE(fs::exists(dir_ + "/g.tflite"));
  const Shell both = RunCli("codegen --float-model " + model_ + " --model x.tflite --out " + out);
  EXPECT_EQ(both.status, 2) << both.out;
  const Shell none = RunCli("codegen --out " + out);
  EXPECT_EQ(none.status, 2) << none.out;
  EXPECT_NE(none.out.find("--float-model"), std::string::npos) << none.out;
}

TEST_F(QuantizeCli, BadInputIsExitTwoNamingTheFileOrField) {
  const Shell missing = RunCli("quantize --float-model " + dir_ + "/nope.json --out " + dir_ + "/x.tflite");
  EXPECT_EQ(missing.status, 2) << missing.out;
  EXPECT_NE(missing.out.find("nope.json"), std::string::npos) << missing.out;

  std::ifstream in(model_);
  nlohmann::json j = nlohmann::json::parse(in);
  j["layers"][1]["weight"].erase(0);
  const std::string bad = dir_ + "/bad.json";
  std::ofstream(bad) << j.dump();
  const Shell r = RunCli("quantize --float-model " + bad + " --calib-images 8 --no-eval --out " + dir_ + "/x.tflite");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("weight"), std::string::npos) << r.out;

  const Shell zero = RunCli("quantize --float-model " + model_ + " --calib-images 0 --out " + dir_ + "/x.tflite");
  EXPECT_EQ(zero.status, 2) << zero.out;
  EXPECT_NE(zero.out.find("--calib-images"), std::string::npos) << zero.out;

  const Shell data = RunCli("quantize --float-model " + model_ + " --data /no/such/data --out " + dir_ + "/x.tflite");
  EXPECT_EQ(data.status, 2) << data.out;
  EXPECT_NE(data.out.find("/no/such/data"), std::string::npos) << data.out;
}

}  // namespace
}  // namespace mcunet
