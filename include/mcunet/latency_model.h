// Latency model: an estimate, in milliseconds, of TinyEngine-style int8
// inference of a Graph (or an Arch) on a board.
//
// Form. Every op contributes cycles that are linear in a few per-op counts
// ("terms"):
//
//   cycles(op) = sum_t  coefficient[t] * term_t(op)
//   ms(graph, board) = core_factor(core) * board_scale(board)
//                      * sum_ops cycles(op) / (clock_mhz * 1000)
//
// The terms, by op kind:
//   conv_mac       MACs of a general (first) convolution     (im2col + GEMM)
//   pointwise_mac  MACs of a 1x1 convolution                 (GEMM)
//   fc_mac         MACs of a fully-connected layer
//   depthwise_mac  MACs of a depthwise convolution; per kernel size k the
//                  cost follows MACs = H*W*C*k*k
//   conv_output    output elements of conv, 1x1 conv and FC (requantisation
//                  and store of every output)
//   add_element    output elements of ADD
//   pool_element   input elements of MEAN / AVERAGE_POOL_2D
//   other_element  max(input, output) elements of every other op
//                  (QUANTIZE, TRANSPOSE, ...); PAD and RESHAPE are free
//                  (TinyEngine fuses padding into the next convolution)
//   op             1 per op (call and loop set-up)
//
// The coefficients are cycles of the reference core (Cortex-M7) and live in
// a calibration file (data/latency_calibration.json), not in code: the file
// holds the published measurements the model is fitted on, which terms are
// fitted (tied in groups) and which are fixed, and the fitted result with its
// leave-one-out error. FitLatencyCalibration() recomputes the fit from the
// file (`mcunet latency --fit`). See that file for what it was calibrated on.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/graph.h"

namespace mcunet {

inline constexpr int kLatencyCalibrationSchemaVersion = 1;

enum class LatencyTerm : int {
  kConvMac = 0,
  kPointwiseMac,
  kFcMac,
  kDepthwiseMac,
  kConvOutput,
  kAddElement,
  kPoolElement,
  kOtherElement,
  kOp,
};
inline constexpr int kNumLatencyTerms = 9;
// "conv_mac", "pointwise_mac", ... as in the calibration file.
std::string_view LatencyTermName(LatencyTerm t);
// Throws InvalidInput naming `where` for an unknown name.
LatencyTerm LatencyTermFromName(const std::string& name, const std::string& where);

using LatencyTerms = std::array<double, kNumLatencyTerms>;

// The terms of one op, and summed over a graph.
LatencyTerms OpLatencyTerms(const Graph& g, const Op& op);
LatencyTerms GraphLatencyTerms(const Graph& g);

// Frames per second <-> latency budget in ms (5 FPS = 200 ms).
double FpsToLatencyMs(double fps);

class LatencyModel {
 public:
  // Reads and validates a calibration file. Throws FileNotFound or
  // InvalidInput ("<file>: cores.cortex-m7.coefficients.pointwise_mac: ...").
  static LatencyModel Load(const std::string& path);
  static LatencyModel FromJson(const nlohmann::json& j, const std::string& source);
  // The calibration file shipped with the library: $MCUNET_LATENCY_CALIBRATION
  // if set, else data/latency_calibration.json of the source tree. Loaded once.
  static const LatencyModel& Default();
  static std::string DefaultCalibrationPath();

  // Cycles on the reference core (Cortex-M7, board scale 1).
  double ReferenceCycles(const Graph& g) const;
  double ReferenceCycles(const LatencyTerms& t) const;
  // Estimated latency in ms of `g` / `arch` on `board`.
  double EstimateMs(const Graph& g, const Board& board) const;
  double EstimateMs(const Arch& arch, const Board& board) const;
  // Per-op estimates in ms (sums to EstimateMs).
  std::vector<double> OpMs(const Graph& g, const Board& board) const;

  // Multiplier of reference cycles for `board`: core factor * board scale.
  double CycleFactor(const Board& board) const;
  // How the board's factor was obtained ("fitted on stm32f746 measurements",
  // "not measured: as stm32f746", ...), for reports.
  std::string BoardNote(const Board& board) const;

  const LatencyTerms& coefficients() const { return coefficients_; }
  const std::string& source() const { return source_; }
  // The calibration's own summary line (what it was fitted on, LOO error).
  const std::string& summary() const { return summary_; }

 private:
  LatencyTerms coefficients_{};
  std::map<std::string, double> core_factor_;  // by CoreName()
  std::map<std::string, double> board_scale_;  // fitted, by board name
  std::map<std::string, std::string> board_like_;  // unmeasured -> measured
  std::string default_board_like_;             // for boards not listed
  std::string source_;
  std::string summary_;
};

// One calibration measurement with the model's predictions for it.
struct LatencyFitPoint {
  std::string model;
  std::string board;
  double measured_ms = 0;
  double fitted_ms = 0;  // all measurements in the fit
  double loo_ms = 0;     // fit without any measurement of this model
  double fit_error() const { return fitted_ms / measured_ms - 1.0; }
  double loo_error() const { return loo_ms / measured_ms - 1.0; }
};

struct LatencyFit {
  LatencyTerms coefficients{};                  // reference-core cycles
  std::map<std::string, double> board_scale;    // measured boards
  std::vector<LatencyFitPoint> points;          // one per used measurement
  std::vector<std::string> skipped;             // measurements without an architecture
  double fit_rms = 0, fit_max = 0;              // relative errors
  double loo_rms = 0, loo_max = 0;
};

// Fits the calibration file's measurements: minimises the sum of squared
// relative errors over the free coefficient groups (least squares) and the
// per-board scales (alternating, the reference board fixed at 1), with the
// fixed terms subtracted. Model files are resolved relative to the directory
// of `source` (the calibration file). Leave-one-out: every model's
// measurements are predicted by a fit that excludes that model entirely.
LatencyFit FitLatencyCalibration(const nlohmann::json& calibration, const std::string& source);
LatencyFit FitLatencyCalibration(const std::string& path);
// `calibration` with the fitted fields (coefficients, board scales, fit
// report) replaced by `fit`.
nlohmann::json ApplyLatencyFit(const nlohmann::json& calibration, const LatencyFit& fit);

}  // namespace mcunet
