// `mcunet report`: the cost model's view of the reference models on a board,
// every planner side by side (the main job's report until the full pipeline
// lands).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/json_util.h"
#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"
#include "mcunet/tflite_reader.h"

namespace mcunet::cli {

namespace {

struct ReportOptions {
  std::string board = kDefaultBoard;
  std::string models_dir = MCUNET_DEFAULT_MODELS_DIR;
  std::string out;
};

struct NamedGraph {
  std::string name;
  Graph graph;
  ParamCounts counts;
};

std::vector<NamedGraph> LoadModels(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw FileNotFound(dir + ": models directory not found");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".json" || ext == ".tflite") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<NamedGraph> models;
  for (const fs::path& f : files) {
    NamedGraph m;
    m.name = f.stem().string();
    if (f.extension() == ".json") {
      const Arch a = LoadArch(f.string());
      m.graph = LowerArch(a);
      m.counts = CountArch(a);
    } else {
      m.graph = ReadTflite(f.string());
      m.counts = CountGraph(m.graph);
    }
    models.push_back(std::move(m));
  }
  if (models.empty()) throw InvalidInput(dir + ": no .json or .tflite models found");
  return models;
}

}  // namespace

void RegisterReport(CLI::App& app) {
  auto opt = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "Cost of the reference models on a board under every planner");
  cmd->add_option("--board", opt->board, "Target board name or board JSON")->capture_default_str();
  cmd->add_option("--models", opt->models_dir, "Directory of arch JSON / .tflite models")->capture_default_str();
  cmd->add_option("--out", opt->out, "Write report.json and report.md here");
  cmd->callback([opt] {
    const Board board = FindBoard(opt->board);
    const std::vector<NamedGraph> models = LoadModels(opt->models_dir);
    const std::vector<std::string> planners = PlannerNames();
    nlohmann::json rows = nlohmann::json::array();
    std::string md = "# mcunet cost report: " + board.name + " (" + std::to_string(board.sram_bytes / 1024) +
                     " kB SRAM, " + std::to_string(board.flash_bytes / 1024) + " kB Flash)\n\n";
    md += "| model | MACs | params | Flash B |";
    for (const std::string& p : planners) md += " peak SRAM " + p + " |";
    md += " fits (tinyengine) |\n|---|---|---|---|";
    for (size_t i = 0; i < planners.size(); ++i) md += "---|";
    md += "---|\n";
    for (const NamedGraph& m : models) {
      nlohmann::json row = {{"model", m.name}, {"macs", m.counts.macs}, {"params", m.counts.params}};
      std::string line = "| " + m.name + " | " + std::to_string(m.counts.macs) + " | " +
                         std::to_string(m.counts.params) + " |";
      std::string fit;
      for (const std::string& p : planners) {
        const CostReport r = EvaluateCost(m.graph, p);
        if (p == planners.front()) {
          line += " " + std::to_string(r.flash_bytes()) + " |";
          row["flash_bytes"] = r.flash_bytes();
          fit = Fits(r, board).message;
        }
        row["peak_sram_bytes"][p] = r.peak_sram_bytes();
        row["arena_bytes"][p] = r.plan.arena_bytes;
        row["scratch_bytes"][p] = r.plan.scratch_bytes;
        line += " " + std::to_string(r.peak_sram_bytes()) + " |";
      }
      row["fit"] = fit;
      md += line + " " + fit + " |\n";
      rows.push_back(row);
    }
    md += "\nPeak SRAM in bytes (arena + scratch). kB = KiB.\n";
    std::printf("%s", md.c_str());
    if (!opt->out.empty()) {
      WriteJsonFile({{"schema_version", 1}, {"kind", "cost_report"}, {"board", BoardToJson(board)}, {"models", rows}},
                    opt->out + "/report.json");
      WriteTextFile(md, opt->out + "/report.md");
      std::printf("\nwrote %s/report.json and %s/report.md\n", opt->out.c_str(), opt->out.c_str());
    }
  });
}

}  // namespace mcunet::cli
