// The firmware (firmware/, built with arm-none-eabi-gcc) runs the generated
// vww1 code under QEMU on a Cortex-M7 (mps2-an500) and a Cortex-M4
// (mps2-an386): its outputs equal the host run of the same generated code
// byte for byte, the arena it declares and links is the cost model's
// tinyengine arena, the canaries around the arena and scratch survive, and
// it reports a stack high-water mark. Models too big for a board fail the
// link with a message that says by how much.
//
// Skipped (not failed) only when arm-none-eabi-gcc or qemu-system-arm is not
// installed (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "mcunet/cost_model.h"
#include "mcunet/float_forward.h"
#include "mcunet/float_model.h"
#include "mcunet/ptq.h"
#include "mcunet/tflite_reader.h"
#include "mcunet/tflite_writer.h"
#include "random_float_model.h"

namespace mcunet {
namespace {

namespace fs = std::filesystem;

const std::string kVww1 = MCUNET_TEST_DATA "/mcunet-vww1.tflite";
constexpr int kSeed = 7;

struct Result {
  int status = -1;
  std::string out;  // stdout
  std::string all;  // stdout + stderr
};

// Runs a shell command; stderr goes through a temporary file.
Result Shell(const std::string& cmd) {
  static int counter = 0;
  const std::string err_file = (fs::temp_directory_path() / ("mcunet_fw_test_" + std::to_string(::getpid()) + "_" +
                                                             std::to_string(counter++) + ".err"))
                                   .string();
  Result r;
  FILE* p = popen((cmd + " 2>" + err_file).c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
  std::ifstream f(err_file);
  std::stringstream err;
  err << f.rdbuf();
  r.all = r.out + err.str();
  std::error_code ec;
  fs::remove(err_file, ec);
  return r;
}

Result Cli(const std::string& args) { return Shell(std::string(MCUNET_CLI) + " " + args); }

bool OnPath(const std::string& program) { return Shell("command -v " + program + " >/dev/null").status == 0; }

bool HaveToolchain() { return OnPath("arm-none-eabi-gcc") && OnPath("qemu-system-arm"); }

constexpr const char* kNoToolchain =
    "arm-none-eabi-gcc or qemu-system-arm missing (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi "
    "qemu-system-arm)";

class FirmwareTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = (fs::temp_directory_path() / ("mcunet_firmware_test_" + std::to_string(::getpid()))).string();
    fs::create_directories(work_);
    model_dir_ = work_ + "/vww1";
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  // Generates vww1's code once.
  static const std::string& Vww1Dir() {
    if (!fs::exists(model_dir_ + "/model.c")) {
      const Result r = Cli("codegen --model " + kVww1 + " --board stm32f746 --out " + model_dir_);
      EXPECT_EQ(r.status, 0) << r.all;
    }
    return model_dir_;
  }

  // The host run of the same generated code on the same input.
  static std::vector<int> HostOutputs(const std::string& tflite = kVww1) {
    const Result r = Cli("run-host --model " + tflite + " --random-seed " + std::to_string(kSeed) + " --json");
    EXPECT_EQ(r.status, 0) << r.all;
    return nlohmann::json::parse(r.out).at("output").get<std::vector<int>>();
  }

  static nlohmann::json RunQemu(const std::string& board) {
    const Result r = Cli("qemu --model " + Vww1Dir() + " --board " + board + " --random-seed " + std::to_string(kSeed) +
                         " --json --out " + work_ + "/build-" + board);
    EXPECT_EQ(r.status, 0) << r.all;
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  }

  static void CheckVww1(const nlohmann::json& j) {
    ASSERT_FALSE(j.empty());
    const CostReport cost = EvaluateCost(ReadTflite(kVww1), "tinyengine");
    EXPECT_EQ(j.at("exit_status"), 0);
    EXPECT_EQ(j.at("status"), 0);
    EXPECT_EQ(j.at("invoke_status"), 0);
    EXPECT_EQ(j.at("canaries"), "intact");
    EXPECT_EQ(j.at("deterministic"), "yes");
    // Byte for byte with the host run of the same code.
    EXPECT_EQ(j.at("output").get<std::vector<int>>(), HostOutputs());
    // Contract 1: the arena declared, and linked, is the cost model's; the
    // firmware wrote up to its last byte (the plan's peak is real).
    EXPECT_EQ(j.at("arena_bytes_declared").get<int64_t>(), cost.plan.arena_bytes);
    EXPECT_EQ(j.at("arena_bytes_linked").get<int64_t>(), cost.plan.arena_bytes);
    EXPECT_EQ(j.at("arena_bytes_touched").get<int64_t>(), cost.plan.arena_bytes);
    EXPECT_EQ(j.at("scratch_bytes_declared").get<int64_t>(), cost.plan.scratch_bytes);
    EXPECT_EQ(j.at("scratch_bytes_linked").get<int64_t>(), cost.plan.scratch_bytes);
    EXPECT_LE(j.at("scratch_bytes_touched").get<int64_t>(), cost.plan.scratch_bytes);
    EXPECT_EQ(j.at("peak_sram_bytes_declared").get<int64_t>(), cost.plan.peak_sram_bytes);
    const int64_t stack = j.at("stack_high_water_bytes").get<int64_t>();
    EXPECT_GT(stack, 0);
    EXPECT_LT(stack, j.at("stack_bytes_reserved").get<int64_t>());
    EXPECT_EQ(j.at("sram_needed_bytes").get<int64_t>(),
              cost.plan.peak_sram_bytes + stack + j.at("runtime_ram_bytes").get<int64_t>());
  }

  // A model directory by hand: `arena` bytes of arena and a `flash`-byte
  // constant table, with the header of the generator's version.
  static std::string HandModel(const std::string& name, int64_t arena, int64_t flash) {
    const std::string dir = work_ + "/" + name;
    fs::create_directories(dir);
    std::ofstream h(dir + "/model.h");
    h << "/* Generated by mcunet codegen from '" << name << "' (by hand, for a test). */\n"
      << "#ifndef MCUNET_MODEL_H_\n#define MCUNET_MODEL_H_\n#include <stdint.h>\n"
      << "#define MCUNET_INPUT_BYTES 4\n#define MCUNET_OUTPUT_BYTES 4\n"
      << "#define MCUNET_ARENA_BYTES " << arena << "\n#define MCUNET_SCRATCH_BYTES 0\n"
      << "#define MCUNET_PEAK_SRAM_BYTES " << arena << "\n"
      << "int mcunet_invoke(const int8_t* input, int8_t* output);\n"
      << "int8_t* mcunet_input(void);\nconst int8_t* mcunet_output(void);\n#endif\n";
    std::ofstream c(dir + "/model.c");
    c << "#include <string.h>\n#include \"model.h\"\n"
      << "static int8_t mcunet_arena[MCUNET_ARENA_BYTES];\n"
      << "static const int8_t table[" << flash << "] = {1};\n"
      << "int8_t* mcunet_input(void) { return mcunet_arena; }\n"
      << "const int8_t* mcunet_output(void) { return mcunet_arena; }\n"
      << "int mcunet_invoke(const int8_t* input, int8_t* output) {\n"
      << "  if (input) memcpy(mcunet_arena, input, 4);\n"
      // An index known only at run time keeps the whole table in Flash.
      << "  mcunet_arena[0] = table[((uint32_t)(uint8_t)mcunet_arena[1] * 4099u) % " << flash << "u];\n"
      << "  if (output) memcpy(output, mcunet_arena, 4);\n  return 0;\n}\n";
    std::ofstream k(dir + "/kernels.txt");  // no runtime source needed
    return dir;
  }

  static std::string work_;
  static std::string model_dir_;
};

std::string FirmwareTest::work_;
std::string FirmwareTest::model_dir_;

TEST_F(FirmwareTest, Vww1OnQemuCortexM7MatchesHostAndCostModel) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  const nlohmann::json j = RunQemu("qemu-m7");
  CheckVww1(j);
  EXPECT_EQ(j.value("machine", ""), "mps2-an500");
}

TEST_F(FirmwareTest, Vww1OnQemuCortexM4MatchesHostAndCostModel) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  const nlohmann::json j = RunQemu("qemu-m4");
  CheckVww1(j);
  EXPECT_EQ(j.value("machine", ""), "mps2-an386");
}

// The firmware's kernels (Armv7E-M DSP paths on both cores, and the portable
// C on the M7) equal the TFLite reference kernels byte for byte on the
// self-test's cases: overlapped pointwise orders, in-place depthwise 3/5/7
// stride 1/2, first conv, ADD in place.
TEST_F(FirmwareTest, KernelSelftestOnQemuDspAndPortable) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  for (const std::string& cfg : {std::string("qemu-m7 dsp"), std::string("qemu-m4 dsp"), std::string("qemu-m7 portable")}) {
    const std::string board = cfg.substr(0, cfg.find(' '));
    const std::string kernels = cfg.substr(cfg.find(' ') + 1);
    const Result r = Cli("qemu --selftest --board " + board + " --kernels " + kernels + " --json --out " + work_ +
                         "/selftest-" + board + "-" + kernels);
    ASSERT_EQ(r.status, 0) << cfg << "\n" << r.all;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("kernels"), kernels);
    EXPECT_GE(j.at("selftest_cases").get<int>(), 300) << cfg;
    EXPECT_EQ(j.at("selftest_failures").get<int>(), 0) << cfg << ": " << j.value("selftest_first_failure", "");
  }
}

// Instruction counts of one vww1 inference (QEMU plugin): DSP and portable
// kernels give the same outputs as the host; the per-kind counts add up to
// the total; the DSP kernels execute fewer instructions.
TEST_F(FirmwareTest, Vww1InstructionCountsDspVsPortable) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  nlohmann::json counts[2];
  const char* kernels[2] = {"dsp", "portable"};
  for (int i = 0; i < 2; ++i) {
    const Result r = Cli("qemu --model " + Vww1Dir() + " --board qemu-m7 --random-seed " + std::to_string(kSeed) +
                         " --kernels " + kernels[i] + " --count-instructions --json --out " + work_ +
                         (i == 0 ? "/build-qemu-m7" : "/build-qemu-m7-portable"));
    ASSERT_EQ(r.status, 0) << r.all;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("status"), 0);
    EXPECT_EQ(j.at("output").get<std::vector<int>>(), HostOutputs()) << kernels[i];
    counts[i] = j.at("instructions");
    EXPECT_EQ(counts[i].at("inferences").get<int>(), 2);  // main.c runs the model twice
    int64_t sum = 0;
    for (const auto& [kind, n] : counts[i].at("per_kind").items()) sum += n.get<int64_t>();
    const int64_t total = counts[i].at("per_inference").get<int64_t>();
    EXPECT_GT(total, 1000000);
    EXPECT_LE(sum, total);
    EXPECT_GE(sum, total - 64);  // per-function counts are rounded down
    EXPECT_GT(counts[i].at("per_kind").value("pointwise_conv", 0), 0);
    EXPECT_GT(counts[i].at("per_kind").value("depthwise_conv", 0), 0);
  }
  EXPECT_LT(counts[0].at("per_inference").get<int64_t>(), counts[1].at("per_inference").get<int64_t>());
}

// The cost model's Flash estimate (weights + int32 bias + int32 multiplier and
// int8 shift per channel + code-size terms measured on this firmware) against
// the linked ELF (text + data of arm-none-eabi-size) of the default build.
TEST_F(FirmwareTest, Vww1FlashMatchesTheCostModelWithinOnePercent) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  const Result r = Cli("firmware --model " + Vww1Dir() + " --board stm32f746 --out " + work_ + "/flash-f746");
  ASSERT_EQ(r.status, 0) << r.all;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(\n\s*([0-9]+)\s+([0-9]+)\s+([0-9]+)\s+[0-9]+\s+[0-9a-f]+\s+\S+\.elf)")))
      << r.out;
  const int64_t measured = std::stoll(m[1].str()) + std::stoll(m[2].str());
  const CostReport cost = EvaluateCost(ReadTflite(kVww1), "tinyengine");
  const int64_t predicted = cost.flash_bytes();
  EXPECT_LE(std::llabs(predicted - measured), measured / 100) << "predicted " << predicted << ", ELF " << measured;
  std::printf("vww1 Flash on stm32f746: ELF %lld B, cost model %lld B\n", static_cast<long long>(measured),
              static_cast<long long>(predicted));
}

// vww1 and an int8 Fashion-MNIST model of the fmnist_small space (random
// weights, PTQ on random images) build for each of the four STM32 boards;
// vww1 within the 490 kB (501,760 B) Flash goal on every one; the
// Fashion-MNIST model also runs on the Cortex-M4 machine, equal to the host.
TEST_F(FirmwareTest, Vww1AndAFashionMnistModelBuildForEveryBoard) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  const Arch arch = SampleArch(std::string(MCUNET_SOURCE_DIR) + "/search_spaces/fmnist_small.json", 0.25, 28, 3, 10);
  const FloatModel fm = RandomFloatModel(arch, 3);
  const int n = 8, px = arch.resolution * arch.resolution;
  const std::vector<uint8_t> images = RandomImages(arch.resolution, 1, n, 5);
  std::vector<float> calib(static_cast<size_t>(n) * px);
  for (int i = 0; i < n; ++i) NormalizeImage(fm, images.data() + i * px, px, calib.data() + i * px);
  const std::string tflite = work_ + "/fmnist.tflite", fmnist_dir = work_ + "/fmnist";
  WriteTfliteFile(QuantizeModel(fm, calib, n), tflite);
  Result r = Cli("codegen --model " + tflite + " --board stm32f412 --out " + fmnist_dir);
  ASSERT_EQ(r.status, 0) << r.all;
  r = Cli("qemu --model " + fmnist_dir + " --board qemu-m4 --random-seed " + std::to_string(kSeed) + " --json --out " +
          work_ + "/fmnist-m4");
  ASSERT_EQ(r.status, 0) << r.all;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("output").get<std::vector<int>>(), HostOutputs(tflite));
  for (const char* board : {"stm32f412", "stm32f746", "stm32f765", "stm32h743"}) {
    for (const std::string& dir : {Vww1Dir(), fmnist_dir}) {
      r = Cli("firmware --model " + dir + " --board " + board + " --out " + dir + "-" + board);
      ASSERT_EQ(r.status, 0) << board << " " << dir << ": " << r.all;
      if (dir != Vww1Dir()) continue;
      std::smatch m;
      ASSERT_TRUE(std::regex_search(
          r.out, m, std::regex(R"(\n\s*([0-9]+)\s+([0-9]+)\s+([0-9]+)\s+[0-9]+\s+[0-9a-f]+\s+\S+\.elf)")))
          << r.out;
      EXPECT_LE(std::stoll(m[1].str()) + std::stoll(m[2].str()), 490 * 1024) << board;
    }
  }
}

TEST_F(FirmwareTest, ModelTooBigForF412FailsTheLinkSayingByHowMuch) {
  if (!HaveToolchain()) GTEST_SKIP() << kNoToolchain;
  // SRAM: a 300 kB arena on a 256 kB board.
  const std::string big_arena = HandModel("big_arena", 300000, 16);
  Result r = Cli("firmware --model " + big_arena + " --board stm32f412 --out " + work_ + "/big-arena-f412");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("does not fit stm32f412: SRAM"), std::string::npos) << r.all;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.all, m, std::regex(R"(by ([0-9]+) bytes)"))) << r.all;
  // stack 4096 + guards 96 + arena 300000 + runtime data > 262144 by at least this much.
  EXPECT_GE(std::stoll(m[1].str()), 4096 + 96 + 300000 - 262144);
  // The same model fits the 512 kB H743.
  r = Cli("firmware --model " + big_arena + " --board stm32h743 --out " + work_ + "/big-arena-h743");
  EXPECT_EQ(r.status, 0) << r.all;

  // Flash: 1.1 MB of constants on a 1 MB board.
  const std::string big_flash = HandModel("big_flash", 64, 1100000);
  r = Cli("firmware --model " + big_flash + " --board f412 --out " + work_ + "/big-flash-f412");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("does not fit stm32f412: Flash"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("region `FLASH' overflowed by"), std::string::npos) << r.all;

  // vww1 with a stack that leaves no room for its arena.
  r = Cli("firmware --model " + Vww1Dir() + " --board stm32f412 --stack-bytes 200000 --out " + work_ +
          "/vww1-f412-stack");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("stack 200000 B"), std::string::npos) << r.all;
}

TEST_F(FirmwareTest, BadInputIsAClearError) {
  // None of these reaches the compiler.
  Result r = Cli("qemu --model " + work_ + "/no-such-dir --board qemu-m7");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("does not exist"), std::string::npos) << r.all;
  r = Cli("firmware --model " + work_ + " --board esp32");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("targets: qemu-m7, qemu-m4, stm32f412"), std::string::npos) << r.all;
  r = Cli("qemu --model " + work_ + " --board stm32f746");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("real board"), std::string::npos) << r.all;

  const std::string dir = HandModel("small", 64, 16);
  r = Cli("firmware --model " + dir + " --board qemu-m7 --input " + dir + "/model.h");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("needs 4 int8 values"), std::string::npos) << r.all;

  r = Cli("firmware --board qemu-m7");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("--model DIR is required"), std::string::npos) << r.all;
  r = Cli("qemu --model " + dir + " --board qemu-m7 --kernels neon");
  EXPECT_NE(r.status, 0) << r.all;
  EXPECT_NE(r.all.find("neon"), std::string::npos) << r.all;

  // A missing cross toolchain names the Debian packages to install.
  const std::string bin = work_ + "/path-without-arm-gcc";
  fs::create_directories(bin);
  const Result cmake_path = Shell("command -v cmake");
  if (cmake_path.status == 0) {
    std::error_code ec;
    fs::create_symlink(cmake_path.out.substr(0, cmake_path.out.find('\n')), bin + "/cmake", ec);
    r = Shell("PATH=" + bin + " " + std::string(MCUNET_CLI) + " firmware --model " + dir + " --board stm32f746");
    EXPECT_EQ(r.status, 2) << r.all;
    EXPECT_NE(r.all.find("arm-none-eabi-gcc' not found"), std::string::npos) << r.all;
    EXPECT_NE(r.all.find("gcc-arm-none-eabi libnewlib-arm-none-eabi"), std::string::npos) << r.all;
  }

  // A model.h from another generator version (no MCUNET_ARENA_BYTES).
  const std::string old = work_ + "/old";
  fs::create_directories(old);
  std::ofstream(old + "/model.h") << "/* Generated by mcunet codegen from 'x'. */\n#define MCUNET_INPUT_BYTES 4\n";
  std::ofstream(old + "/model.c") << "\n";
  r = Cli("firmware --model " + old + " --board qemu-m7");
  EXPECT_EQ(r.status, 2) << r.all;
  EXPECT_NE(r.all.find("another version"), std::string::npos) << r.all;
}

}  // namespace
}  // namespace mcunet
