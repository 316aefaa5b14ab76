// mcunet sweep: TinyNAS stage 1, search-space optimisation over (W, R).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "mcunet/board.h"
#include "mcunet/error.h"
#include "mcunet/memory_plan.h"
#include "mcunet/search_space.h"
#include "mcunet/sweep.h"

namespace mcunet::cli {

namespace {

struct SweepCliOptions {
  std::string space_path;
  std::vector<std::string> boards;
  std::vector<std::string> planners;
  int samples = 1000;
  uint64_t seed = 0;
  int threads = 0;
  int cdf_points = 101;
  double min_fit_fraction = SweepOptions{}.min_fit_fraction;
  std::string out_dir;
  bool quiet = false;
};

// "a,b , c" -> {"a", "b", "c"}; empty items are errors.
std::vector<std::string> SplitList(const std::string& text, const std::string& option) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b == std::string::npos) throw InvalidInput("sweep: " + option + ": empty item in \"" + text + "\"");
    out.push_back(item.substr(b, e - b + 1));
  }
  if (out.empty()) throw InvalidInput("sweep: " + option + ": empty list");
  return out;
}

void ProgressBar(int64_t done, int64_t total) {
  const int width = 40;
  const double f = total > 0 ? static_cast<double>(done) / total : 1.0;
  const int filled = static_cast<int>(f * width);
  std::string bar(filled, '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\rsweep [%s] %3d%% %lld/%lld", bar.c_str(), static_cast<int>(f * 100),
               static_cast<long long>(done), static_cast<long long>(total));
  if (done >= total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace

void RegisterSweep(CLI::App& app) {
  auto opt = std::make_shared<SweepCliOptions>();
  auto* cmd = app.add_subcommand(
      "sweep", "TinyNAS stage 1: sample every (W, R) sub-space, keep the networks that fit, rank by mean MACs");
  cmd->add_option("--space", opt->space_path, "Search space JSON (e.g. search_spaces/mcunet.json)")->required();
  auto board_opt = std::make_shared<std::string>();
  auto boards_opt = std::make_shared<std::string>();
  auto planner_opt = std::make_shared<std::string>();
  auto planners_opt = std::make_shared<std::string>();
  cmd->add_option("--board", *board_opt, "Target board name or board JSON (default " + std::string(kDefaultBoard) + ")");
  cmd->add_option("--boards", *boards_opt, "Comma-separated boards, or \"all\" for the four paper boards");
  cmd->add_option("--planner", *planner_opt, "Memory planner (default " + std::string(kDefaultPlanner) + ")");
  cmd->add_option("--planners", *planners_opt, "Comma-separated planners, e.g. tinyengine,tflm");
  cmd->add_option("--samples", opt->samples, "Architectures sampled per sub-space (m)")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  cmd->add_option("--threads", opt->threads, "OpenMP threads (0: default)")->capture_default_str();
  cmd->add_option("--cdf-points", opt->cdf_points, "CDF points per sub-space in the JSON")->capture_default_str();
  cmd->add_option("--min-fit-fraction", opt->min_fit_fraction,
                  "Do not rank sub-spaces where fewer than this fraction fits")
      ->capture_default_str();
  cmd->add_option("--out", opt->out_dir, "Output directory (sweep.json, sweep.csv)")->required();
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress bar");
  cmd->callback([opt, board_opt, boards_opt, planner_opt, planners_opt] {
    const SearchSpace space = LoadSearchSpace(opt->space_path);

    SweepOptions so;
    std::vector<std::string> board_names;
    if (!board_opt->empty()) board_names.push_back(*board_opt);
    if (!boards_opt->empty()) {
      if (*boards_opt == "all") {
        for (const Board& b : BuiltinBoards()) board_names.push_back(b.name);
      } else {
        for (const std::string& b : SplitList(*boards_opt, "--boards")) board_names.push_back(b);
      }
    }
    if (board_names.empty()) board_names.push_back(kDefaultBoard);
    for (const std::string& b : board_names) so.boards.push_back(FindBoard(b));

    so.planners.clear();
    if (!planner_opt->empty()) so.planners.push_back(*planner_opt);
    if (!planners_opt->empty()) {
      for (const std::string& p : SplitList(*planners_opt, "--planners")) so.planners.push_back(p);
    }
    if (so.planners.empty()) so.planners.push_back(kDefaultPlanner);
    for (size_t i = 0; i < so.planners.size(); ++i) {
      for (size_t k = 0; k < i; ++k) {
        if (so.planners[k] == so.planners[i]) throw InvalidInput("sweep: planner " + so.planners[i] + " given twice");
      }
    }

    so.samples = opt->samples;
    so.seed = opt->seed;
    so.num_threads = opt->threads;
    so.cdf_points = opt->cdf_points;
    so.min_fit_fraction = opt->min_fit_fraction;
    if (!opt->quiet && isatty(fileno(stderr))) so.progress = ProgressBar;

    // Fail on an unusable --out before the sweep, not after it.
    try {
      std::filesystem::create_directories(opt->out_dir);
    } catch (const std::filesystem::filesystem_error& e) {
      throw InvalidInput("sweep: --out " + opt->out_dir + ": cannot create directory: " + e.code().message());
    }

    const SweepResult r = RunSweep(space, so);
    WriteSweep(r, opt->out_dir);

    std::printf("space %s: %d sub-spaces x %d samples, seed %llu; %lld evaluations in %.2f s on %d thread(s)\n",
                space.name.c_str(), space.num_subspaces(), r.samples, static_cast<unsigned long long>(r.seed),
                static_cast<long long>(r.evaluations), r.seconds, r.threads);
    for (const SweepCase& c : r.cases) std::printf("  %s\n", c.summary.c_str());
    std::printf("\n%s", SweepComparisonTable(r).c_str());
    std::printf("\nwrote %s/sweep.json and %s/sweep.csv\n", opt->out_dir.c_str(), opt->out_dir.c_str());
  });
}

}  // namespace mcunet::cli
