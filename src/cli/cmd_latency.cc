// `mcunet latency`: the latency model's estimate for a model on a board, and
// the (re)fit of the model from its calibration file.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/json_util.h"
#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/error.h"
#include "mcunet/latency_model.h"
#include "mcunet/lower.h"
#include "mcunet/tflite_reader.h"

namespace mcunet::cli {

namespace {

struct LatencyOptions {
  std::string arch_path;
  std::string model_path;
  std::string board = kDefaultBoard;
  std::string calibration;
  bool per_op = false;
  bool json = false;
  bool fit = false;
  bool write = false;
};

void PrintFit(const LatencyFit& fit, const std::string& path) {
  std::printf("calibration  %s\n", path.c_str());
  std::printf("coefficients (Cortex-M7 cycles per unit):\n");
  for (int t = 0; t < kNumLatencyTerms; ++t) {
    std::printf("  %-14s %10.4g\n", std::string(LatencyTermName(static_cast<LatencyTerm>(t))).c_str(),
                fit.coefficients[t]);
  }
  std::printf("board scales:\n");
  for (const auto& [b, s] : fit.board_scale) std::printf("  %-14s %10.4f\n", b.c_str(), s);
  std::printf("\n%-16s %-10s %9s %9s %8s %9s %8s\n", "model", "board", "measured", "fitted", "error", "loo", "loo err");
  for (const LatencyFitPoint& p : fit.points) {
    std::printf("%-16s %-10s %7.1fms %7.1fms %+7.1f%% %7.1fms %+7.1f%%\n", p.model.c_str(), p.board.c_str(),
                p.measured_ms, p.fitted_ms, 100 * p.fit_error(), p.loo_ms, 100 * p.loo_error());
  }
  std::printf("\nfit error            rms %.1f%%  max %.1f%%\n", 100 * fit.fit_rms, 100 * fit.fit_max);
  std::printf("leave-one-model-out  rms %.1f%%  max %.1f%%\n", 100 * fit.loo_rms, 100 * fit.loo_max);
  for (const std::string& s : fit.skipped) std::printf("skipped (no architecture held): %s\n", s.c_str());
}

}  // namespace

void RegisterLatency(CLI::App& app) {
  auto opt = std::make_shared<LatencyOptions>();
  auto* cmd = app.add_subcommand("latency", "Estimated inference latency of a model on a board (latency model)");
  auto* arch = cmd->add_option("--arch", opt->arch_path, "Architecture JSON (ours or the MCUNet zoo format)");
  auto* model = cmd->add_option("--model", opt->model_path, "int8 .tflite model");
  arch->excludes(model);
  model->excludes(arch);
  cmd->add_option("--board", opt->board, "Target board name or board JSON")->capture_default_str();
  cmd->add_option("--calibration", opt->calibration,
                  "Latency calibration JSON (default: data/latency_calibration.json or $MCUNET_LATENCY_CALIBRATION)");
  cmd->add_flag("--per-op", opt->per_op, "Print the estimate of every op");
  cmd->add_flag("--json", opt->json, "Print a JSON object");
  auto* fit = cmd->add_flag("--fit", opt->fit, "Recompute the fit from the calibration file and print its errors");
  cmd->add_flag("--write", opt->write, "With --fit: write the fitted coefficients back into the calibration file")
      ->needs(fit);
  fit->excludes(arch);
  fit->excludes(model);
  cmd->callback([opt] {
    const std::string path = opt->calibration.empty() ? LatencyModel::DefaultCalibrationPath() : opt->calibration;
    if (opt->fit) {
      const nlohmann::json calib = ReadJsonFile(path);
      const LatencyFit fit = FitLatencyCalibration(calib, path);
      PrintFit(fit, path);
      if (opt->write) {
        const nlohmann::json updated = ApplyLatencyFit(calib, fit);
        LatencyModel::FromJson(updated, path);  // validates before writing
        // Keep the file's own key order; replace only the fitted fields.
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        nlohmann::ordered_json out = nlohmann::ordered_json::parse(text.str());
        const auto ordered = [](const nlohmann::json& v) { return nlohmann::ordered_json::parse(v.dump()); };
        out["coefficients"] = ordered(updated["coefficients"]);
        out["boards"]["fitted_scale"] = ordered(updated["boards"]["fitted_scale"]);
        out["fit_report"] = ordered(updated["fit_report"]);
        WriteTextFile(out.dump(2) + "\n", path);
        std::printf("wrote %s\n", path.c_str());
      }
      return;
    }
    if (opt->arch_path.empty() && opt->model_path.empty()) {
      throw InvalidInput("latency: give --arch FILE or --model FILE.tflite (or --fit)");
    }
    const Board board = FindBoard(opt->board);
    const LatencyModel lm = LatencyModel::Load(path);
    const Graph g = !opt->arch_path.empty() ? LowerArch(LoadArch(opt->arch_path)) : ReadTflite(opt->model_path);
    const double ms = lm.EstimateMs(g, board);
    const std::vector<double> op_ms = lm.OpMs(g, board);
    if (opt->json) {
      nlohmann::json j = {{"schema_version", 1},
                          {"model", g.name},
                          {"board", board.name},
                          {"clock_mhz", board.clock_mhz},
                          {"latency_ms", ms},
                          {"fps", 1000.0 / ms},
                          {"reference_cycles", lm.ReferenceCycles(g)},
                          {"board_note", lm.BoardNote(board)},
                          {"calibration", path},
                          {"calibration_summary", lm.summary()}};
      if (opt->per_op) {
        nlohmann::json ops = nlohmann::json::array();
        for (size_t k = 0; k < g.ops.size(); ++k) {
          ops.push_back({{"op", k}, {"kind", std::string(OpKindName(g.ops[k].kind))}, {"ms", op_ms[k]}});
        }
        j["ops"] = ops;
      }
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model        %s\n", g.name.c_str());
    std::printf("board        %s (%s, %d MHz)\n", board.name.c_str(), CoreName(board.core).c_str(), board.clock_mhz);
    std::printf("latency_ms   %.1f\n", ms);
    std::printf("fps          %.2f\n", 1000.0 / ms);
    std::printf("board scale  %s\n", lm.BoardNote(board).c_str());
    std::printf("calibration  %s: %s\n", path.c_str(), lm.summary().c_str());
    if (opt->per_op) {
      std::printf("\n%4s %-18s %-16s %10s %9s\n", "op", "kind", "output", "macs", "ms");
      for (size_t k = 0; k < g.ops.size(); ++k) {
        const Op& op = g.ops[k];
        std::printf("%4zu %-18s %-16s %10lld %9.3f\n", k, std::string(OpKindName(op.kind)).c_str(),
                    g.tensors[op.output].shape.ToString().c_str(), static_cast<long long>(op.macs), op_ms[k]);
      }
    }
  });
}

}  // namespace mcunet::cli
