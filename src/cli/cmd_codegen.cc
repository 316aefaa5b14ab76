// `mcunet codegen`: .tflite -> model.h / model.c for a board.
// `mcunet run-host`: the same generated code compiled and run on the host.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/float_model_quantize.h"
#include "mcunet/board.h"
#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/search_space.h"
#include "mcunet/tflite_reader.h"
#include "mcunet/tflite_writer.h"

namespace mcunet::cli {

namespace {

long long LL(int64_t v) { return static_cast<long long>(v); }

// engine/runtime of the sources this binary was built from, unless told.
std::string RuntimeDir(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("MCUNET_RUNTIME_DIR"); env && *env) return env;
#if defined(MCUNET_RUNTIME_DIR)
  return MCUNET_RUNTIME_DIR;
#elif defined(MCUNET_ENGINE_DIR)
  return (std::filesystem::path(MCUNET_ENGINE_DIR) / "runtime").string();
#elif defined(MCUNET_DEFAULT_MODELS_DIR)
  // MCUNET_DEFAULT_MODELS_DIR is <source>/tests/data.
  return (std::filesystem::path(MCUNET_DEFAULT_MODELS_DIR) / ".." / ".." / "engine" / "runtime")
      .lexically_normal()
      .string();
#else
  return "";
#endif
}

// Plans the model with the tinyengine planner: the report the generator
// takes its offsets from.
CostReport PlanModel(const std::string& path) { return EvaluateCost(ReadTflite(path), "tinyengine"); }

// The permutation of the leading TRANSPOSE ops that FoldInt8Input removes
// (composed), so that the folded int8 input = transpose(file input, perm);
// empty if there are none.
std::vector<int> LeadingPermutation(const Graph& g) {
  std::vector<int> perm;
  int32_t cur = g.inputs.at(0);
  for (bool found = true; found;) {
    found = false;
    for (const Op& op : g.ops) {
      if (op.inputs[0] != cur || (op.kind != OpKind::kQuantize && op.kind != OpKind::kTranspose)) continue;
      if (op.kind == OpKind::kTranspose) {
        const Tensor& p = g.tensors[op.inputs[1]];
        const int rank = static_cast<int>(p.shape.elements());
        if (rank > 4 || p.data.size() != static_cast<size_t>(rank * DTypeSize(p.dtype))) return {};
        std::vector<int> step(rank);
        for (int d = 0; d < rank; ++d) {
          if (p.dtype == DType::kInt64) {
            int64_t v;
            std::memcpy(&v, p.data.data() + 8 * d, 8);
            step[d] = static_cast<int>(v);
          } else {
            int32_t v;
            std::memcpy(&v, p.data.data() + 4 * d, 4);
            step[d] = v;
          }
        }
        if (perm.empty()) {
          perm = step;
        } else {
          std::vector<int> composed(rank);
          for (int d = 0; d < rank; ++d) composed[d] = perm[step[d]];
          perm = composed;
        }
      }
      cur = op.output;
      found = true;
      break;
    }
  }
  return perm;
}

struct CodegenCliOptions {
  std::string model_path;
  QuantizeCliOptions quant;  // --float-model path
  std::string tflite_out;
  std::string board = kDefaultBoard;
  std::string out_dir;
  std::string prefix = "mcunet";
};

struct RunHostCliOptions {
  std::string model_path;
  std::string input_path;
  std::optional<uint64_t> random_seed;
  std::string board;
  std::string runtime_dir;
  std::string work_dir;
  bool json = false;
};

void RegisterCodegenVerb(CLI::App& app) {
  auto opt = std::make_shared<CodegenCliOptions>();
  auto* cmd = app.add_subcommand("codegen",
                                 "Generate C code (model.h / model.c) running an int8 .tflite in the "
                                 "memory the cost model predicts");
  auto* model = cmd->add_option("--model", opt->model_path, "int8 .tflite model");
  cmd->add_option("--board", opt->board, "Target board name or board JSON")->capture_default_str();
  cmd->add_option("--out", opt->out_dir, "Output directory")->required();
  cmd->add_option("--prefix", opt->prefix, "C prefix of the public symbols")->capture_default_str();
  // Or: a float model (Arch + weights), quantised here (PTQ) first.
  AddQuantizeOptions(cmd, &opt->quant, /*require_model=*/false);
  cmd->add_option("--tflite-out", opt->tflite_out, "With --float-model: also write the int8 .tflite here");
  model->excludes(cmd->get_option("--float-model"));
  cmd->callback([opt] {
    if (opt->model_path.empty() == opt->quant.float_model_path.empty()) {
      throw InvalidInput("codegen: give exactly one of --model FILE.tflite or --float-model FILE.json");
    }
    const Board board = FindBoard(opt->board);
    CostReport report;
    if (!opt->model_path.empty()) {
      report = PlanModel(opt->model_path);
    } else {
      const QuantizedFromCli q = QuantizeFromCli(opt->quant);
      if (!opt->tflite_out.empty()) WriteTfliteFile(q.graph, opt->tflite_out);
      report = EvaluateCost(q.graph, "tinyengine");
      std::printf("quantised        %s (%lld calibration images)\n", opt->quant.float_model_path.c_str(),
                  LL(q.calib_count));
    }
    CodegenOptions co;
    co.prefix = opt->prefix;
    const GeneratedCode code = GenerateCode(report, board, co);
    const std::vector<std::string> files = WriteGeneratedCode(code, opt->out_dir);
    std::printf("model            %s\n", report.graph.name.c_str());
    std::printf("board            %s\n", Fits(report, board).message.c_str());
    std::printf("peak_sram_bytes  %lld  (arena %lld + scratch %lld)\n", LL(code.peak_sram_bytes), LL(code.arena_bytes),
                LL(code.scratch_bytes));
    std::printf("const_bytes      %lld\n", LL(code.const_bytes));
    std::string kernels;
    for (const std::string& k : code.kernels) kernels += (kernels.empty() ? "" : " ") + k;
    std::printf("kernels          %s\n", kernels.c_str());
    std::string sources;
    for (const std::string& s : code.kernel_sources) sources += (sources.empty() ? "" : " ") + s;
    std::printf("runtime sources  %s (engine/runtime)\n", sources.c_str());
    for (const std::string& f : files) std::printf("wrote            %s\n", f.c_str());
  });
}

void RegisterRunHostVerb(CLI::App& app) {
  auto opt = std::make_shared<RunHostCliOptions>();
  auto* cmd = app.add_subcommand("run-host",
                                 "Generate the C code of an int8 .tflite, compile it with the host C "
                                 "compiler and run it on one input");
  cmd->add_option("--model", opt->model_path, "int8 .tflite model")->required();
  auto* input = cmd->add_option("--input", opt->input_path,
                                "Raw int8 bytes of the input tensor (NHWC); several inputs back to back run in turn");
  auto* seed = cmd->add_option("--random-seed", opt->random_seed, "Run on a random input made from this seed");
  input->excludes(seed);
  seed->excludes(input);
  cmd->add_option("--board", opt->board, "Also check that the model fits this board");
  cmd->add_option("--runtime-dir", opt->runtime_dir,
                  "engine/runtime of the mcunet sources (default: $MCUNET_RUNTIME_DIR, else the build's)");
  cmd->add_option("--work-dir", opt->work_dir, "Keep the generated sources and program here");
  cmd->add_flag("--json", opt->json, "Print a JSON object");
  cmd->callback([opt] {
    if (opt->input_path.empty() && !opt->random_seed) {
      throw InvalidInput("run-host: give --input FILE or --random-seed S");
    }
    const Graph raw = ReadTflite(opt->model_path);
    const CostReport report = EvaluateCost(raw, "tinyengine");
    const std::vector<int> permutation = LeadingPermutation(raw);
    const GeneratedCode code = opt->board.empty() ? GenerateCode(report) : GenerateCode(report, FindBoard(opt->board));
    std::vector<int8_t> in;
    if (opt->random_seed) {
      Rng rng(*opt->random_seed);
      in.resize(code.input_bytes);
      for (int8_t& v : in) v = static_cast<int8_t>(rng.Next() & 0xff);
    } else {
      std::ifstream f(opt->input_path, std::ios::binary);
      if (!f) throw FileNotFound("run-host: cannot read input '" + opt->input_path + "'");
      const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (bytes.empty() || static_cast<int64_t>(bytes.size()) % code.input_bytes != 0) {
        throw InvalidInput("run-host: input '" + opt->input_path + "' has " + std::to_string(bytes.size()) +
                           " bytes, the model's input " +
                           report.graph.tensors[report.graph.inputs[0]].shape.ToString() + " needs " +
                           std::to_string(code.input_bytes) + " int8 values (or a whole number of inputs)");
      }
      in.assign(bytes.begin(), bytes.end());
    }
    HostRunOptions ro;
    ro.runtime_dir = RuntimeDir(opt->runtime_dir);
    ro.work_dir = opt->work_dir;
    const HostRunResult r = RunOnHost(code, in, ro);
    // One output and argmax per input (the file may hold several inputs).
    const int64_t n_out = code.output_bytes;
    const int64_t count = static_cast<int64_t>(r.outputs.size()) / n_out;
    std::vector<std::vector<int>> outputs;
    std::vector<int> argmaxes;
    for (int64_t i = 0; i < count; ++i) {
      outputs.emplace_back(r.outputs.begin() + i * n_out, r.outputs.begin() + (i + 1) * n_out);
      argmaxes.push_back(
          static_cast<int>(std::max_element(outputs.back().begin(), outputs.back().end()) - outputs.back().begin()));
    }
    const int argmax = argmaxes.front();
    const Graph& g = report.graph;
    const Tensor& out_t = g.tensors[g.outputs[0]];
    const Tensor& in_t = g.tensors[g.inputs[0]];
    if (opt->json) {
      nlohmann::json j = {
          {"model", g.name},
          {"input_shape", std::vector<int>(in_t.shape.dims.begin(), in_t.shape.dims.begin() + in_t.shape.rank)},
          {"input_scale", in_t.quant.scale[0]},
          {"input_zero_point", in_t.quant.zero_point[0]},
          {"output_shape", std::vector<int>(out_t.shape.dims.begin(), out_t.shape.dims.begin() + out_t.shape.rank)},
          {"output_scale", out_t.quant.scale[0]},
          {"output_zero_point", out_t.quant.zero_point[0]},
          {"output", outputs.front()},
          {"argmax", argmax},
          {"outputs", outputs},
          {"argmaxes", argmaxes},
          {"arena_bytes", code.arena_bytes},
          {"scratch_bytes", code.scratch_bytes},
          {"peak_sram_bytes", code.peak_sram_bytes}};
      if (!permutation.empty()) j["input_permutation"] = permutation;
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model            %s\n", g.name.c_str());
    std::printf("input            %s int8, scale %g, zero point %lld%s\n", in_t.shape.ToString().c_str(),
                static_cast<double>(in_t.quant.scale[0]), LL(in_t.quant.zero_point[0]),
                opt->random_seed ? (" (random, seed " + std::to_string(*opt->random_seed) + ")").c_str() : "");
    std::printf("peak_sram_bytes  %lld  (arena %lld + scratch %lld)\n", LL(code.peak_sram_bytes), LL(code.arena_bytes),
                LL(code.scratch_bytes));
    std::printf("output           %s int8, scale %g, zero point %lld\n", out_t.shape.ToString().c_str(),
                static_cast<double>(out_t.quant.scale[0]), LL(out_t.quant.zero_point[0]));
    for (int64_t i = 0; i < count; ++i) {
      std::string values;
      for (int v : outputs[i]) values += (values.empty() ? "" : " ") + std::to_string(v);
      std::printf("values           %s\n", values.c_str());
      std::printf("argmax           %d\n", argmaxes[i]);
    }
  });
}

}  // namespace

void RegisterCodegen(CLI::App& app) {
  RegisterCodegenVerb(app);
  RegisterQuantize(app);
  RegisterRunHostVerb(app);
}

}  // namespace mcunet::cli
