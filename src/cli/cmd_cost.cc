#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"
#include "mcunet/tflite_reader.h"

namespace mcunet::cli {

namespace {

struct CostOptions {
  std::string arch_path;
  std::string model_path;
  std::string board = kDefaultBoard;
  std::string planner = kDefaultPlanner;
  bool json = false;
  bool timeline = false;
};

void PrintText(const CostReport& r, const Graph& g, const Board& board, bool timeline) {
  const auto ll = [](int64_t v) { return static_cast<long long>(v); };
  std::printf("model           %s\n", g.name.c_str());
  std::printf("planner         %s\n", r.plan.planner.c_str());
  std::printf("macs            %lld\n", ll(r.counts.macs));
  std::printf("params          %lld\n", ll(r.counts.params));
  std::printf("params_folded   %lld\n", ll(r.counts.params_folded));
  std::printf("flash_bytes     %lld  (weights %lld, bias %lld, quant %lld, code %lld)\n", ll(r.flash_bytes()),
              ll(r.flash.weight_bytes), ll(r.flash.bias_bytes), ll(r.flash.quant_bytes), ll(r.flash.code_bytes));
  std::printf("peak_sram_bytes %lld\n", ll(r.plan.peak_sram_bytes));
  std::printf("arena_bytes     %lld\n", ll(r.plan.arena_bytes));
  std::printf("scratch_bytes   %lld\n", ll(r.plan.scratch_bytes));
  std::printf("board           %s\n", Fits(r, board).message.c_str());
  std::printf("\n%4s %-18s %-16s %10s %8s %-18s %10s\n", "op", "kind", "output", "macs", "scratch", "overlap",
              "live B");
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const Op& op = g.ops[k];
    const OpPlan* p = k < r.plan.ops.size() ? &r.plan.ops[k] : nullptr;
    std::printf("%4zu %-18s %-16s %10lld %8lld %-18s %10lld\n", k, std::string(OpKindName(op.kind)).c_str(),
                g.tensors[op.output].shape.ToString().c_str(), ll(op.macs), ll(p ? p->scratch_bytes : 0),
                p ? std::string(OverlapName(p->overlap)).c_str() : "-", ll(p ? p->live_bytes : 0));
  }
  if (timeline) std::printf("\n%s", r.plan.Timeline(g).c_str());
}

}  // namespace

void RegisterCost(CLI::App& app) {
  auto opt = std::make_shared<CostOptions>();
  auto* cmd = app.add_subcommand("cost", "MACs, params, Flash and peak SRAM of a model under a memory planner");
  auto* arch = cmd->add_option("--arch", opt->arch_path, "Architecture JSON (ours or the MCUNet zoo format)");
  auto* model = cmd->add_option("--model", opt->model_path, "int8 .tflite model");
  arch->excludes(model);
  model->excludes(arch);
  cmd->add_option("--board", opt->board, "Target board name or board JSON")->capture_default_str();
  cmd->add_option("--planner", opt->planner, "Memory planner: tinyengine, tflm or cmsis")->capture_default_str();
  cmd->add_flag("--json", opt->json, "Print a versioned JSON object");
  cmd->add_flag("--timeline", opt->timeline, "Print the memory timeline");
  cmd->callback([opt] {
    if (opt->arch_path.empty() && opt->model_path.empty()) {
      throw InvalidInput("cost: give --arch FILE or --model FILE.tflite");
    }
    const Board board = FindBoard(opt->board);
    MakePlanner(opt->planner);  // validates the name before any work
    const CostReport r = opt->arch_path.empty() ? EvaluateCost(ReadTflite(opt->model_path), opt->planner)
                                                : EvaluateCost(LoadArch(opt->arch_path), opt->planner);
    const Graph& g = r.graph;
    if (opt->json) {
      nlohmann::json j = CostReportToJson(r);
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      PrintText(r, g, board, opt->timeline);
    }
  });
}

}  // namespace mcunet::cli
