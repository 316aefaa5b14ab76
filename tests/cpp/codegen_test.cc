// The code generator (engine/codegen): generated C compiles cleanly as C99 and
// C++, declares exactly the SRAM the cost model predicts, and runs bit-exact
// with an independent reference runner on vww1 and on sampled architectures
// with synthetic weights (which also proves that the tinyengine planner's
// overlaps are physically safe); models that do not fit are rejected.
//
// The reference runner below is deliberately separate from the generator: it
// runs the folded graph op by op with the mcunet_ref_* kernels (straight
// transcriptions of the TFLite reference kernels), every tensor in its own
// buffer, with no memory plan.
#include "mcunet/codegen.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"
#include "mcunet/quantize_multiplier.h"
#include "mcunet/search_space.h"
#include "mcunet/tflite_reader.h"
#include "int8_reference.h"
#include "mcunet_kernels.h"
#include "requantize.h"

namespace mcunet {
namespace {

namespace fs = std::filesystem;

const std::string kVww1 = MCUNET_TEST_DATA "/mcunet-vww1.tflite";
const std::string kRuntimeDir = MCUNET_SOURCE_DIR "/engine/runtime";
const std::string kSpaces = MCUNET_SOURCE_DIR "/search_spaces/";

// ---- Synthetic quantised weights for lowered architectures ---------------------

// Fills the constant tensors of a lowered (unquantised) graph with seeded
// random int8 weights, int32 biases and plausible scales and zero points, so
// that activations spread over the int8 range rather than saturating.
void FillSynthetic(Graph* g, uint64_t seed) {
  Rng rng(seed);
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * rng.Uniform(); };
  auto randint = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng.Below(hi - lo + 1)); };
  auto set_quant = [](Tensor& t, float scale, int64_t zp) {
    t.quant.scale = {scale};
    t.quant.zero_point = {zp};
  };
  set_quant(g->tensors[g->inputs[0]], static_cast<float>(uniform(0.005, 0.02)), randint(-40, 40));
  for (const Op& op : g->ops) {
    const Tensor& in = g->tensors[op.inputs[0]];
    Tensor& out = g->tensors[op.output];
    const float s_in = in.quant.scale.at(0);
    const bool relu = op.activation != Activation::kNone;
    const int64_t out_zp = relu ? randint(-128, -110) : randint(-30, 30);
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kPointwiseConv2D:
      case OpKind::kDepthwiseConv2D:
      case OpKind::kFullyConnected: {
        Tensor& w = g->tensors[op.inputs[1]];
        const bool fc = op.kind == OpKind::kFullyConnected;
        const int64_t channels = fc ? w.shape[0] : out.shape[out.shape.rank - 1];
        const int64_t fan_in = w.shape.elements() / channels;
        w.data.resize(w.bytes());
        for (uint8_t& v : w.data) v = static_cast<uint8_t>(static_cast<int8_t>(randint(-127, 127)));
        w.quant.scale.clear();
        const int64_t n_scales = fc ? 1 : channels;
        // Scales do a random walk without drift; the weight scales map an
        // accumulator of ~12-step inputs to ~30 output steps (small biases), so activations
        // neither vanish nor saturate through deep networks.
        const double s_out = s_in * uniform(0.8, 1.25);
        const double unit = (s_out / s_in) * 30.0 / (73.0 * 12.0 * std::sqrt(static_cast<double>(fan_in)));
        for (int64_t c = 0; c < n_scales; ++c) w.quant.scale.push_back(static_cast<float>(unit * uniform(0.7, 1.4)));
        w.quant.zero_point.assign(n_scales, 0);
        w.quant.quantized_dimension = op.kind == OpKind::kDepthwiseConv2D ? 3 : 0;
        if (op.inputs[2] >= 0) {
          Tensor& b = g->tensors[op.inputs[2]];
          const int64_t span = static_cast<int64_t>(300 * std::sqrt(static_cast<double>(fan_in)));
          std::vector<int32_t> bias(b.shape.elements());
          for (int32_t& v : bias) v = static_cast<int32_t>(randint(-span, span));
          b.data.resize(b.bytes());
          std::memcpy(b.data.data(), bias.data(), b.data.size());
        }
        set_quant(out, static_cast<float>(s_out), out_zp);
        break;
      }
      case OpKind::kAdd: {
        const float s2 = g->tensors[op.inputs[1]].quant.scale.at(0);
        set_quant(out, static_cast<float>(std::max(s_in, s2) * uniform(0.8, 1.25)), randint(-30, 30));
        break;
      }
      case OpKind::kMean:
        if (rng.Bernoulli(0.5)) {
          set_quant(out, s_in, in.quant.zero_point.at(0));  // divide only
        } else {
          set_quant(out, static_cast<float>(s_in * uniform(0.3, 1.5)), randint(-30, 30));
        }
        break;
      default:
        set_quant(out, s_in, in.quant.zero_point.at(0));
        break;
    }
  }
}

// ---- Helpers ---------------------------------------------------------------------

std::vector<int8_t> RandomInputs(int64_t bytes, int count, uint64_t seed) {
  Rng rng(seed);
  std::vector<int8_t> v(bytes * count);
  for (int8_t& x : v) x = static_cast<int8_t>(rng.Next() & 0xff);
  // The first input exercises the extremes.
  if (count >= 2) {
    std::fill(v.begin(), v.begin() + bytes, int8_t{-128});
    std::fill(v.begin() + bytes, v.begin() + 2 * bytes, int8_t{127});
  }
  return v;
}

struct Shell {
  int status = -1;
  std::string out;
};

Shell RunShell(const std::string& cmd) {
  Shell r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// A fresh directory, removed when it goes out of scope.
struct TempDir {
  explicit TempDir(const std::string& name)
      // One per process: ctest runs the tests of this file in parallel.
      : path((fs::path(testing::TempDir()) / ("mcunet_codegen_" + name + "_" + std::to_string(getpid()))).string()) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  const std::string path;
};

// The value of `#define <name> <value>` in a generated header.
int64_t Define(const std::string& header, const std::string& name) {
  const std::string key = "#define " + name + " ";
  const size_t at = header.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(header.substr(at + key.size()));
}

// Size of a symbol in an object file, from `nm -S`, or -1.
int64_t SymbolSize(const std::string& object, const std::string& symbol) {
  const Shell r = RunShell("nm -S " + object);
  if (r.status != 0) return -1;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string addr, size, type, name;
    if (f >> addr >> size >> type >> name && name == symbol) return std::stoll(size, nullptr, 16);
  }
  return -1;
}

// Flags that build the generated program with AddressSanitizer and UBSan
// (so a kernel touching bytes outside the arena or the scratch buffer fails
// the run), if the host compiler supports them.
std::string SanitizedCflags() {
  static const std::string flags = [] {
    const std::string f = "-std=c99 -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined";
    const TempDir tmp("sanitizer_probe");
    const std::string& dir = tmp.path;
    std::ofstream(dir + "/probe.c") << "int main(void) { return 0; }\n";
    const Shell r = RunShell("cc " + f + " " + dir + "/probe.c -o " + dir + "/probe && " + dir + "/probe");
    return r.status == 0 ? f : std::string("-std=c99 -O2");
  }();
  return flags;
}

// Runs generated code for `report` on `count` random inputs and compares it
// with the reference runner byte for byte.
void ExpectBitExact(const CostReport& report, const GeneratedCode& code, int count, uint64_t seed,
                    bool sanitize = false) {
  const std::vector<int8_t> inputs = RandomInputs(code.input_bytes, count, seed);
  HostRunOptions ro;
  ro.runtime_dir = kRuntimeDir;
  if (sanitize) ro.cflags = SanitizedCflags();
  const HostRunResult r = RunOnHost(code, inputs, ro);
  ASSERT_EQ(r.outputs.size(), static_cast<size_t>(count * code.output_bytes));
  for (int i = 0; i < count; ++i) {
    const std::vector<int8_t> expect =
        RunReference(report.graph, std::span<const int8_t>(inputs).subspan(i * code.input_bytes, code.input_bytes));
    const std::vector<int8_t> got(r.outputs.begin() + i * code.output_bytes,
                                  r.outputs.begin() + (i + 1) * code.output_bytes);
    EXPECT_EQ(got, expect) << report.graph.name << ": input " << i;
  }
  if (count >= 4 && code.output_bytes >= 8) {
    // Two random inputs give different outputs: the check is not vacuous.
    EXPECT_FALSE(std::equal(r.outputs.begin() + 2 * code.output_bytes, r.outputs.begin() + 3 * code.output_bytes,
                            r.outputs.begin() + 3 * code.output_bytes))
        << report.graph.name;
  }
}

// ---- (a) vww1 ----------------------------------------------------------------

class Vww1 : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    report_ = new CostReport(EvaluateCost(ReadTflite(kVww1)));
    code_ = new GeneratedCode(GenerateCode(*report_, FindBoard("stm32f746")));
  }
  static void TearDownTestSuite() {
    delete code_;
    delete report_;
  }
  static CostReport* report_;
  static GeneratedCode* code_;
};
CostReport* Vww1::report_ = nullptr;
GeneratedCode* Vww1::code_ = nullptr;

TEST_F(Vww1, DeclaresExactlyTheCostModelsPeak) {
  const CostReport& r = *report_;
  const GeneratedCode& c = *code_;
  EXPECT_EQ(r.plan.planner, "tinyengine");
  EXPECT_EQ(c.arena_bytes, r.plan.arena_bytes);
  EXPECT_EQ(c.scratch_bytes, r.plan.scratch_bytes);
  EXPECT_EQ(c.arena_bytes + c.scratch_bytes, r.peak_sram_bytes());
  EXPECT_EQ(Define(c.header, "MCUNET_ARENA_BYTES"), r.plan.arena_bytes);
  EXPECT_EQ(Define(c.header, "MCUNET_SCRATCH_BYTES"), r.plan.scratch_bytes);
  EXPECT_EQ(Define(c.header, "MCUNET_PEAK_SRAM_BYTES"), r.peak_sram_bytes());
  EXPECT_LT(r.peak_sram_bytes(), 93992) << "TinyEngine's own figure for vww1";
  // The only static SRAM in model.c is the arena and the scratch buffer.
  EXPECT_NE(c.source.find("static int8_t mcunet_arena[MCUNET_ARENA_BYTES];"), std::string::npos);
  EXPECT_NE(c.source.find("static int8_t mcunet_scratch[MCUNET_SCRATCH_BYTES];"), std::string::npos);
  EXPECT_EQ(c.kernel_sources, std::vector<std::string>{"kernels_opt.c"});
  std::printf("vww1: arena %lld + scratch %lld = %lld B (cost model %lld B), %lld B of constants\n",
              static_cast<long long>(c.arena_bytes), static_cast<long long>(c.scratch_bytes),
              static_cast<long long>(c.peak_sram_bytes), static_cast<long long>(r.peak_sram_bytes()),
              static_cast<long long>(c.const_bytes));
}

TEST_F(Vww1, UsesTheSpecialisedKernelsThePlanAsksFor) {
  const CostReport& r = *report_;
  const std::string& src = code_->source;
  for (size_t k = 0; k < r.graph.ops.size(); ++k) {
    const Op& op = r.graph.ops[k];
    const Overlap o = r.plan.ops[k].overlap;
    const size_t at = src.find("/* op " + std::to_string(k) + " (");
    ASSERT_NE(at, std::string::npos) << k;
    const std::string call = src.substr(src.find('\n', at) + 1, src.find(';', at) - src.find('\n', at));
    if (op.kind == OpKind::kDepthwiseConv2D) {
      const std::string variant = "_k" + std::to_string(op.kernel_h) + "s" + std::to_string(op.stride_h) + "(";
      EXPECT_NE(call.find(o == Overlap::kInPlaceDepthwise ? "mcunet_depthwise_conv_s8_inplace" + variant
                                                          : "mcunet_depthwise_conv_s8" + variant),
                std::string::npos)
          << call;
    }
    if (op.kind == OpKind::kPointwiseConv2D) {
      EXPECT_NE(call.find(o == Overlap::kPointwiseReverse ? "MCUNET_ORDER_REVERSE" : "MCUNET_ORDER_FORWARD"),
                std::string::npos)
          << call;
    }
  }
  // Only the kernels the model uses are referenced.
  EXPECT_EQ(src.find("mcunet_avg_pool_s8"), std::string::npos);
  EXPECT_EQ(src.find("mcunet_ref_"), std::string::npos);
}

TEST_F(Vww1, CompilesAsC99AndCxxWithWarningsAsErrors) {
  const TempDir tmp("vww1_compile");
  const std::string& dir = tmp.path;
  WriteGeneratedCode(*code_, dir);
  const std::string inc = " -I" + dir + " -I" + kRuntimeDir + " ";
  const Shell c99 =
      RunShell("cc -std=c99 -pedantic -Wall -Wextra -Werror -O1 -c" + inc + dir + "/model.c -o " + dir + "/model_c.o");
  EXPECT_EQ(c99.status, 0) << c99.out;
  const Shell cxx = RunShell("c++ -x c++ -std=c++17 -Wall -Wextra -Werror -O1 -c" + inc + dir + "/model.c -o " + dir +
                             "/model_cxx.o");
  EXPECT_EQ(cxx.status, 0) << cxx.out;
  // The object's SRAM is exactly the declared arena and scratch.
  const int64_t arena = SymbolSize(dir + "/model_c.o", "mcunet_arena");
  if (arena >= 0) {
    EXPECT_EQ(arena, report_->plan.arena_bytes);
    EXPECT_EQ(SymbolSize(dir + "/model_c.o", "mcunet_scratch"), report_->plan.scratch_bytes);
  }
}

TEST_F(Vww1, RandomInputsAreBitExactWithTheReferenceRunner) {
  ExpectBitExact(*report_, *code_, /*count=*/10, /*seed=*/7, /*sanitize=*/true);
}

TEST_F(Vww1, ReferenceKernelBaselineBuildAgrees) {
  // The baseline for host benchmarks: plain mcunet_ref_* kernels, one buffer
  // per tensor. Same outputs, strict compile.
  CodegenOptions o;
  o.reference_kernels = true;
  o.prefix = "vww1_ref";
  const GeneratedCode ref = GenerateCode(*report_, o);
  EXPECT_EQ(ref.kernel_sources, std::vector<std::string>{"kernels_ref.c"});
  EXPECT_EQ(ref.scratch_bytes, 0);
  EXPECT_GT(ref.arena_bytes, report_->peak_sram_bytes());
  EXPECT_EQ(ref.source.find("mcunet_pointwise_conv_s8"), std::string::npos);
  const std::vector<int8_t> inputs = RandomInputs(ref.input_bytes, 3, 21);
  HostRunOptions ro;
  ro.runtime_dir = kRuntimeDir;
  ro.cflags = "-std=c99 -pedantic -Wall -Wextra -Werror -O2";
  const HostRunResult r = RunOnHost(ref, inputs, ro);
  for (int i = 0; i < 3; ++i) {
    const std::vector<int8_t> expect =
        RunReference(report_->graph, std::span<const int8_t>(inputs).subspan(i * ref.input_bytes, ref.input_bytes));
    EXPECT_EQ(
        std::vector<int8_t>(r.outputs.begin() + i * ref.output_bytes, r.outputs.begin() + (i + 1) * ref.output_bytes),
        expect);
  }
}

// ---- (b) sampled architectures with synthetic weights ---------------------------

struct SampledArch {
  std::string space;
  double width;
  int resolution;
  uint64_t seed;
  int num_classes;
  int resolution_override = 0;  // not in the space: odd sizes through the strides
};

TEST(CodegenArchs, ArenaEqualsCostModelAndOutputsAreBitExact) {
  const std::vector<SampledArch> cases = {
      {"mcunet.json", 0.3, 64, 1, 10},       {"mcunet.json", 0.5, 96, 2, 100},
      {"mcunet.json", 0.2, 80, 3, 1000},     {"mcunet.json", 0.4, 48, 4, 10, 52},
      {"fmnist_small.json", 0.5, 28, 5, 10}, {"fmnist_small.json", 1.0, 40, 6, 10, 33},
  };
  std::map<Overlap, int> overlaps;
  for (const SampledArch& sa : cases) {
    const SearchSpace space = LoadSearchSpace(kSpaces + sa.space);
    Rng rng(sa.seed);
    Arch arch = space.Decode({sa.width, sa.resolution}, space.Sample(rng));
    arch.num_classes = sa.num_classes;
    if (sa.resolution_override) arch.resolution = sa.resolution_override;
    arch.name += "-s" + std::to_string(sa.seed);
    SCOPED_TRACE(arch.name);

    const CostReport by_arch = EvaluateCost(arch);
    Graph g = LowerArch(arch);
    FillSynthetic(&g, sa.seed);
    const CostReport report = EvaluateCost(g);
    const GeneratedCode code = GenerateCode(report);
    EXPECT_EQ(code.arena_bytes, by_arch.plan.arena_bytes);
    EXPECT_EQ(code.scratch_bytes, by_arch.plan.scratch_bytes);
    EXPECT_EQ(code.arena_bytes + code.scratch_bytes, by_arch.peak_sram_bytes());
    EXPECT_EQ(Define(code.header, "MCUNET_PEAK_SRAM_BYTES"), by_arch.peak_sram_bytes());
    for (const OpPlan& p : report.plan.ops) ++overlaps[p.overlap];
    std::printf("%s: %zu ops, arena %lld + scratch %lld = %lld B\n", arch.name.c_str(), report.graph.ops.size(),
                static_cast<long long>(code.arena_bytes), static_cast<long long>(code.scratch_bytes),
                static_cast<long long>(by_arch.peak_sram_bytes()));
    ExpectBitExact(report, code, /*count=*/4, sa.seed * 100, /*sanitize=*/true);
  }
  // Every kind of overlap the planner uses ran at least once.
  for (Overlap o :
       {Overlap::kInPlaceDepthwise, Overlap::kPointwiseForward, Overlap::kPointwiseReverse, Overlap::kElementwise}) {
    EXPECT_GT(overlaps[o], 0) << OverlapName(o);
  }
}

TEST(CodegenArchs, ReferenceOutputsAreNotDegenerate) {
  // Guards the bit-exactness test: synthetic weights must give outputs that
  // depend on the input (not all saturated).
  const SearchSpace space = LoadSearchSpace(kSpaces + "mcunet.json");
  Rng rng(1);
  Arch arch = space.Decode({0.3, 64}, space.Sample(rng));
  arch.num_classes = 10;
  Graph g = LowerArch(arch);
  FillSynthetic(&g, 1);
  const CostReport report = EvaluateCost(g);
  const int64_t in_bytes = report.graph.tensors[report.graph.inputs[0]].bytes();
  const std::vector<int8_t> inputs = RandomInputs(in_bytes, 4, 11);
  std::vector<std::vector<int8_t>> outs;
  int distinct_values = 0;
  for (int i = 0; i < 4; ++i) {
    outs.push_back(RunReference(report.graph, std::span<const int8_t>(inputs).subspan(i * in_bytes, in_bytes)));
    std::vector<int8_t> sorted = outs.back();
    std::sort(sorted.begin(), sorted.end());
    distinct_values += static_cast<int>(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
  }
  EXPECT_NE(outs[2], outs[3]);
  EXPECT_GT(distinct_values, 8);
}

// ---- (c) models that do not fit, and other bad input ---------------------------

TEST(CodegenErrors, ModelTooLargeForTheBoardSaysByHowMuch) {
  const CostReport r = EvaluateCost(ReadTflite(kVww1));
  Board small = FindBoard("stm32f412");
  small.sram_bytes = r.peak_sram_bytes() - 1234;
  try {
    GenerateCode(r, small);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("by 1234 B"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SRAM"), std::string::npos) << e.what();
  }
  Board no_flash = FindBoard("stm32f412");
  no_flash.flash_bytes = r.flash_bytes() - 99;
  try {
    GenerateCode(r, no_flash);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("Flash"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("by 99 B"), std::string::npos) << e.what();
  }
  // A zoo model for a 512 kB board on the 256 kB one: rejected before its
  // (missing) weights are looked at.
  const Arch big = LoadArch(MCUNET_TEST_DATA "/zoo/mcunet-512kb-2mb_imagenet.json");
  const Board f412 = FindBoard("stm32f412");
  const CostReport rb = EvaluateCost(big);
  ASSERT_GT(rb.peak_sram_bytes(), f412.sram_bytes);
  try {
    GenerateCode(rb, f412);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("by " + std::to_string(rb.peak_sram_bytes() - f412.sram_bytes) + " B"),
              std::string::npos)
        << e.what();
  }
}

TEST(CodegenErrors, RejectsOtherPlannersMissingWeightsAndUnsupportedOps) {
  const Graph vww1 = ReadTflite(kVww1);
  EXPECT_THROW(GenerateCode(EvaluateCost(vww1, "tflm")), InvalidInput);

  const SearchSpace space = LoadSearchSpace(kSpaces + "fmnist_small.json");
  Rng rng(3);
  const Arch arch = space.Decode({0.5, 28}, space.Sample(rng));
  Graph g = LowerArch(arch);
  FillSynthetic(&g, 3);
  Graph no_weights = g;
  for (Tensor& t : no_weights.tensors) {
    if (t.is_constant && t.dtype == DType::kInt8) t.data.clear();
  }
  try {
    GenerateCode(EvaluateCost(no_weights));
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("bytes of data"), std::string::npos) << e.what();
  }

  Graph softmax = g;
  Op sm;
  sm.kind = OpKind::kSoftmax;
  sm.inputs[0] = softmax.outputs[0];
  sm.output = softmax.AddTensor(DType::kInt8, softmax.tensors[softmax.outputs[0]].shape);
  softmax.tensors[sm.output].quant.scale = {1.0f / 256};
  softmax.tensors[sm.output].quant.zero_point = {-128};
  softmax.ops.push_back(sm);
  softmax.outputs[0] = sm.output;
  try {
    GenerateCode(EvaluateCost(softmax));
    FAIL() << "expected Unsupported";
  } catch (const Unsupported& e) {
    EXPECT_NE(std::string(e.what()).find("SOFTMAX"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("op " + std::to_string(softmax.ops.size() - 1)), std::string::npos)
        << e.what();
  }

  CodegenOptions bad;
  bad.prefix = "9lives";
  EXPECT_THROW(GenerateCode(EvaluateCost(g), bad), InvalidInput);
}

// ---- The command line ------------------------------------------------------------

TEST(CodegenCli, CodegenWritesTheFilesAndRunHostMatchesTheReference) {
  const TempDir tmp("cli");
  const std::string& dir = tmp.path;
  const Shell gen = RunShell(std::string(MCUNET_CLI) + " codegen --model " + kVww1 + " --board stm32f746 --out " + dir);
  ASSERT_EQ(gen.status, 0) << gen.out;
  for (const char* f : {"model.h", "model.c", "kernels.txt"}) EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;

  const CostReport r = EvaluateCost(ReadTflite(kVww1));
  const int64_t in_bytes = r.graph.tensors[r.graph.inputs[0]].bytes();
  const std::vector<int8_t> input = RandomInputs(in_bytes, 1, 99);
  const std::string in_path = dir + "/input.bin";
  std::ofstream(in_path, std::ios::binary).write(reinterpret_cast<const char*>(input.data()), in_bytes);
  const Shell run = RunShell(std::string(MCUNET_CLI) + " run-host --model " + kVww1 + " --input " + in_path +
                             " --runtime-dir " + kRuntimeDir + " --json 2>/dev/null");
  ASSERT_EQ(run.status, 0) << run.out;
  const auto j = nlohmann::json::parse(run.out);
  const std::vector<int8_t> expect = RunReference(r.graph, input);
  std::vector<int> expect_int(expect.begin(), expect.end());
  EXPECT_EQ(j["output"].get<std::vector<int>>(), expect_int);
  EXPECT_EQ(j["argmax"].get<int>(), static_cast<int>(std::max_element(expect.begin(), expect.end()) - expect.begin()));
  EXPECT_EQ(j["peak_sram_bytes"].get<int64_t>(), r.peak_sram_bytes());

  // Wrong input size, and a board the model does not fit: exit code 2.
  const std::string short_input = dir + "/short.bin";
  std::ofstream(short_input, std::ios::binary) << "abc";
  const Shell bad = RunShell(std::string(MCUNET_CLI) + " run-host --model " + kVww1 + " --input " + short_input);
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("3 bytes"), std::string::npos) << bad.out;
}

TEST(CodegenCli, RunHostWithARandomSeedPrintsOutputsAndArgmax) {
  const Shell run = RunShell(std::string(MCUNET_CLI) + " run-host --model " + kVww1 + " --random-seed 5");
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("values"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("argmax"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace mcunet
