#include "mcunet/latency_model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "mcunet/error.h"
#include "mcunet/lower.h"
#include "mcunet/tflite_reader.h"

namespace mcunet {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, kNumLatencyTerms> kTermNames = {
    "conv_mac",    "pointwise_mac", "fc_mac",        "depthwise_mac", "conv_output",
    "add_element", "pool_element",  "other_element", "op",
};

double Elements(const Graph& g, int32_t t) { return t >= 0 ? static_cast<double>(g.tensors[t].shape.elements()) : 0.0; }

void Add(LatencyTerms* t, LatencyTerm term, double v) { (*t)[static_cast<int>(term)] += v; }

std::string Percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * x);
  return buf;
}

}  // namespace

std::string_view LatencyTermName(LatencyTerm t) { return kTermNames[static_cast<int>(t)]; }

LatencyTerm LatencyTermFromName(const std::string& name, const std::string& where) {
  for (int i = 0; i < kNumLatencyTerms; ++i) {
    if (kTermNames[i] == name) return static_cast<LatencyTerm>(i);
  }
  std::string known;
  for (std::string_view n : kTermNames) known += (known.empty() ? "" : ", ") + std::string(n);
  throw InvalidInput(where + ": unknown latency term \"" + name + "\" (expected one of: " + known + ")");
}

LatencyTerms OpLatencyTerms(const Graph& g, const Op& op) {
  LatencyTerms t{};
  const double out = Elements(g, op.output);
  const double in = Elements(g, op.inputs[0]);
  const double macs = static_cast<double>(op.macs);
  switch (op.kind) {
    case OpKind::kConv2D:
      Add(&t, LatencyTerm::kConvMac, macs);
      Add(&t, LatencyTerm::kConvOutput, out);
      break;
    case OpKind::kPointwiseConv2D:
      Add(&t, LatencyTerm::kPointwiseMac, macs);
      Add(&t, LatencyTerm::kConvOutput, out);
      break;
    case OpKind::kFullyConnected:
      Add(&t, LatencyTerm::kFcMac, macs);
      Add(&t, LatencyTerm::kConvOutput, out);
      break;
    case OpKind::kDepthwiseConv2D:
      Add(&t, LatencyTerm::kDepthwiseMac, macs);
      break;
    case OpKind::kAdd:
      Add(&t, LatencyTerm::kAddElement, out);
      break;
    case OpKind::kMean:
    case OpKind::kAveragePool2D:
      Add(&t, LatencyTerm::kPoolElement, in);
      break;
    case OpKind::kReshape:
      break;  // a view: no work
    case OpKind::kPad:
      break;  // TinyEngine fuses padding into the next convolution
    default:
      Add(&t, LatencyTerm::kOtherElement, std::max(in, out));
      break;
  }
  Add(&t, LatencyTerm::kOp, 1.0);
  return t;
}

LatencyTerms GraphLatencyTerms(const Graph& g) {
  LatencyTerms sum{};
  for (const Op& op : g.ops) {
    const LatencyTerms t = OpLatencyTerms(g, op);
    for (int i = 0; i < kNumLatencyTerms; ++i) sum[i] += t[i];
  }
  return sum;
}

double FpsToLatencyMs(double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) throw InvalidInput("fps must be a positive number, got " + std::to_string(fps));
  return 1000.0 / fps;
}

// ---- LatencyModel ------------------------------------------------------------

LatencyModel LatencyModel::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

LatencyModel LatencyModel::FromJson(const json& j, const std::string& source) {
  JsonReader r(source);
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object (a latency calibration)");
  const int version = r.Get<int>(j, "schema_version");
  if (version != kLatencyCalibrationSchemaVersion) {
    r.Fail("", "schema_version",
           "unsupported version " + std::to_string(version) + " (expected " +
               std::to_string(kLatencyCalibrationSchemaVersion) + ")");
  }
  const std::string kind = r.Get<std::string>(j, "kind");
  if (kind != "latency_calibration") r.Fail("", "kind", "expected \"latency_calibration\", got \"" + kind + "\"");

  LatencyModel m;
  m.source_ = source;
  const json& coef = r.Object(j, "coefficients");
  for (int i = 0; i < kNumLatencyTerms; ++i) {
    const std::string name(kTermNames[i]);
    const double c = r.Get<double>(coef, name, "coefficients.");
    if (!(c >= 0) || !std::isfinite(c)) r.Fail("coefficients.", name, "must be a finite number >= 0");
    m.coefficients_[i] = c;
  }
  for (auto it = coef.begin(); it != coef.end(); ++it) LatencyTermFromName(it.key(), source + ": coefficients");

  const json& cores = r.Object(j, "cores");
  for (const char* core : {"cortex-m4", "cortex-m7"}) {
    const json& c = r.Object(cores, core, "cores.");
    const double f = r.Get<double>(c, "factor", std::string("cores.") + core + ".");
    if (!(f > 0) || !std::isfinite(f)) r.Fail(std::string("cores.") + core + ".", "factor", "must be > 0");
    m.core_factor_[core] = f;
  }

  const json& boards = r.Object(j, "boards");
  const json& scale = r.Object(boards, "fitted_scale", "boards.");
  for (auto it = scale.begin(); it != scale.end(); ++it) {
    const double s = r.Get<double>(scale, it.key(), "boards.fitted_scale.");
    if (!(s > 0) || !std::isfinite(s)) r.Fail("boards.fitted_scale.", it.key(), "must be > 0");
    m.board_scale_[it.key()] = s;
  }
  if (m.board_scale_.empty()) r.Fail("boards.", "fitted_scale", "must name at least one board");
  if (boards.contains("like")) {
    const json& like = r.Object(boards, "like", "boards.");
    for (auto it = like.begin(); it != like.end(); ++it) {
      const std::string target = r.Get<std::string>(like, it.key(), "boards.like.");
      if (!m.board_scale_.count(target)) {
        r.Fail("boards.like.", it.key(), "\"" + target + "\" is not a board of boards.fitted_scale");
      }
      m.board_like_[it.key()] = target;
    }
  }
  m.default_board_like_ = r.Get<std::string>(boards, "default_like", "boards.");
  if (!m.board_scale_.count(m.default_board_like_)) {
    r.Fail("boards.", "default_like", "\"" + m.default_board_like_ + "\" is not a board of boards.fitted_scale");
  }

  m.summary_ = "calibration " + source;
  if (j.contains("fit_report") && j["fit_report"].is_object()) {
    const json& rep = j["fit_report"];
    if (rep.contains("summary") && rep["summary"].is_string()) m.summary_ = rep["summary"].get<std::string>();
  }
  return m;
}

std::string LatencyModel::DefaultCalibrationPath() {
  if (const char* env = std::getenv("MCUNET_LATENCY_CALIBRATION"); env && *env) return env;
  namespace fs = std::filesystem;
  // This file is <source>/src/cost/latency_model.cc; the data sits in
  // <source>/data. (An installed package sets MCUNET_LATENCY_CALIBRATION.)
  const fs::path here(__FILE__);
  const fs::path in_tree = here.parent_path().parent_path().parent_path() / "data" / "latency_calibration.json";
  if (here.is_absolute() && fs::exists(in_tree)) return in_tree.string();
#ifdef MCUNET_SOURCE_DIR
  // __FILE__ is relative when the build rewrote paths (ccache base_dir).
  const fs::path from_build = fs::path(MCUNET_SOURCE_DIR) / "data" / "latency_calibration.json";
  if (fs::exists(from_build)) return from_build.string();
#endif
  return "data/latency_calibration.json";
}

const LatencyModel& LatencyModel::Default() {
  static std::once_flag once;
  static LatencyModel* model = nullptr;
  std::call_once(once, [] {
    const std::string path = DefaultCalibrationPath();
    try {
      model = new LatencyModel(Load(path));
    } catch (const FileNotFound& e) {
      throw FileNotFound(std::string(e.what()) +
                         " (the latency calibration shipped in data/ of the source tree; set "
                         "MCUNET_LATENCY_CALIBRATION to its path)");
    }
  });
  return *model;
}

double LatencyModel::ReferenceCycles(const LatencyTerms& t) const {
  double c = 0;
  for (int i = 0; i < kNumLatencyTerms; ++i) c += coefficients_[i] * t[i];
  return c;
}

double LatencyModel::ReferenceCycles(const Graph& g) const { return ReferenceCycles(GraphLatencyTerms(g)); }

double LatencyModel::CycleFactor(const Board& board) const {
  const auto core = core_factor_.find(CoreName(board.core));
  const double cf = core == core_factor_.end() ? 1.0 : core->second;
  if (auto it = board_scale_.find(board.name); it != board_scale_.end()) return cf * it->second;
  if (auto it = board_like_.find(board.name); it != board_like_.end()) return cf * board_scale_.at(it->second);
  return cf * board_scale_.at(default_board_like_);
}

std::string LatencyModel::BoardNote(const Board& board) const {
  std::string core = CoreName(board.core);
  std::string note;
  if (board_scale_.count(board.name)) {
    note = "fitted on " + board.name + " measurements";
  } else if (auto it = board_like_.find(board.name); it != board_like_.end()) {
    note = "not measured: scaled as " + it->second;
  } else {
    note = "not measured: scaled as " + default_board_like_;
  }
  if (auto it = core_factor_.find(core); it != core_factor_.end() && it->second != 1.0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "; %s cycles = %.3g x reference (assumed, not measured)", core.c_str(), it->second);
    note += buf;
  }
  return note;
}

double LatencyModel::EstimateMs(const Graph& g, const Board& board) const {
  if (board.clock_mhz <= 0) throw InvalidInput("board " + board.name + ": clock_mhz must be > 0");
  return ReferenceCycles(g) * CycleFactor(board) / (board.clock_mhz * 1000.0);
}

double LatencyModel::EstimateMs(const Arch& arch, const Board& board) const {
  return EstimateMs(LowerArch(arch), board);
}

std::vector<double> LatencyModel::OpMs(const Graph& g, const Board& board) const {
  if (board.clock_mhz <= 0) throw InvalidInput("board " + board.name + ": clock_mhz must be > 0");
  const double k = CycleFactor(board) / (board.clock_mhz * 1000.0);
  std::vector<double> ms;
  ms.reserve(g.ops.size());
  for (const Op& op : g.ops) ms.push_back(ReferenceCycles(OpLatencyTerms(g, op)) * k);
  return ms;
}

// ---- Fitting -----------------------------------------------------------------

namespace {

struct FitRow {
  std::string model;
  std::string board;
  double measured_ms = 0;
  double cycles = 0;   // measured cycles on the board divided by its core factor
  double fixed = 0;    // reference cycles of the fixed terms
  std::vector<double> x;  // one per group
};

// Solves the (small, dense) system A c = b by Gaussian elimination with
// partial pivoting. Returns nullopt if singular.
std::optional<std::vector<double>> SolveLinear(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t i = 0; i < n; ++i) {
    size_t p = i;
    for (size_t k = i + 1; k < n; ++k) {
      if (std::fabs(a[k][i]) > std::fabs(a[p][i])) p = k;
    }
    if (!(std::fabs(a[p][i]) > 1e-12)) return std::nullopt;
    std::swap(a[i], a[p]);
    std::swap(b[i], b[p]);
    for (size_t k = 0; k < n; ++k) {
      if (k == i) continue;
      const double f = a[k][i] / a[i][i];
      for (size_t j = i; j < n; ++j) a[k][j] -= f * a[i][j];
      b[k] -= f * b[i];
    }
  }
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = b[i] / a[i][i];
  return x;
}

struct FitResult {
  std::vector<double> group_coef;
  std::map<std::string, double> scale;
  bool ok = false;
};

double Predict(const FitRow& r, const std::vector<double>& c, double scale) {
  double p = r.fixed;
  for (size_t g = 0; g < c.size(); ++g) p += c[g] * r.x[g];
  return scale * p;
}

// Alternating least squares on relative errors; see FitLatencyCalibration.
FitResult FitRows(const std::vector<const FitRow*>& rows, size_t num_groups, const std::string& reference) {
  FitResult f;
  std::set<std::string> boards;
  for (const FitRow* r : rows) boards.insert(r->board);
  for (const std::string& b : boards) f.scale[b] = 1.0;
  const size_t n = num_groups;
  for (int iter = 0; iter < 500; ++iter) {
    // Coefficients given scales. Columns are normalised for conditioning.
    std::vector<double> norm(n, 0.0);
    for (const FitRow* r : rows) {
      for (size_t g = 0; g < n; ++g) norm[g] = std::max(norm[g], std::fabs(r->x[g] / r->cycles));
    }
    for (double& v : norm) v = v > 0 ? v : 1.0;
    std::vector<std::vector<double>> a(n, std::vector<double>(n, 0.0));
    std::vector<double> b(n, 0.0);
    for (const FitRow* r : rows) {
      const double s = f.scale[r->board];
      // residual_r = (s * (fixed + sum c x) - y) / y
      const double target = (r->cycles - s * r->fixed) / r->cycles;
      std::vector<double> row(n);
      for (size_t g = 0; g < n; ++g) row[g] = s * r->x[g] / r->cycles / norm[g];
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) a[i][j] += row[i] * row[j];
        b[i] += row[i] * target;
      }
    }
    auto sol = SolveLinear(a, b);
    if (!sol) return f;
    for (size_t g = 0; g < n; ++g) (*sol)[g] /= norm[g];
    // Scales given coefficients.
    double change = 0;
    for (auto& [board, s] : f.scale) {
      if (board == reference) continue;
      double num = 0, den = 0;
      for (const FitRow* r : rows) {
        if (r->board != board) continue;
        const double q = Predict(*r, *sol, 1.0) / r->cycles;
        num += q;
        den += q * q;
      }
      const double ns = den > 0 ? num / den : 1.0;
      change = std::max(change, std::fabs(ns - s));
      s = ns;
    }
    if (!f.group_coef.empty()) {
      for (size_t g = 0; g < n; ++g) {
        change = std::max(change, std::fabs((*sol)[g] - f.group_coef[g]) / std::max(std::fabs((*sol)[g]), 1e-30));
      }
    }
    f.group_coef = *sol;
    f.ok = true;
    if (iter > 0 && change < 1e-13) break;
  }
  return f;
}

}  // namespace

LatencyFit FitLatencyCalibration(const std::string& path) { return FitLatencyCalibration(ReadJsonFile(path), path); }

LatencyFit FitLatencyCalibration(const json& j, const std::string& source) {
  namespace fs = std::filesystem;
  JsonReader r(source);
  // The file must also be a loadable model (cores, boards, schema).
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object (a latency calibration)");
  const int version = r.Get<int>(j, "schema_version");
  if (version != kLatencyCalibrationSchemaVersion) {
    r.Fail("", "schema_version",
           "unsupported version " + std::to_string(version) + " (expected " +
               std::to_string(kLatencyCalibrationSchemaVersion) + ")");
  }
  const fs::path base = fs::path(source).parent_path();

  // Core factors (measured cycles are divided by them).
  const json& cores = r.Object(j, "cores");
  std::map<std::string, double> core_factor;
  for (const char* core : {"cortex-m4", "cortex-m7"}) {
    const double f = r.Get<double>(r.Object(cores, core, "cores."), "factor", std::string("cores.") + core + ".");
    if (!(f > 0) || !std::isfinite(f)) r.Fail(std::string("cores.") + core + ".", "factor", "must be > 0");
    core_factor[core] = f;
  }

  // Which terms are fitted (tied in groups) and which are fixed.
  const json& fit = r.Object(j, "fit");
  const std::string reference = r.Get<std::string>(fit, "reference_board", "fit.");
  const json& groups_j = r.Object(fit, "groups", "fit.");
  const json& fixed_j = r.Object(fit, "fixed", "fit.");
  std::vector<std::string> group_names;
  std::vector<std::vector<int>> group_terms;
  std::array<int, kNumLatencyTerms> owner{};
  owner.fill(-2);  // -2 unassigned, -1 fixed, >= 0 group
  LatencyTerms fixed{};
  for (auto it = groups_j.begin(); it != groups_j.end(); ++it) {
    const std::string prefix = "fit.groups.";
    if (!it->is_array() || it->empty()) r.Fail(prefix, it.key(), "expected a non-empty array of term names");
    std::vector<int> terms;
    for (const json& t : *it) {
      if (!t.is_string()) r.Fail(prefix, it.key(), "expected term names (strings), got " + t.dump());
      const int term = static_cast<int>(LatencyTermFromName(t.get<std::string>(), source + ": " + prefix + it.key()));
      if (owner[term] != -2) r.Fail(prefix, it.key(), "term \"" + t.get<std::string>() + "\" is listed twice");
      owner[term] = static_cast<int>(group_names.size());
      terms.push_back(term);
    }
    group_names.push_back(it.key());
    group_terms.push_back(terms);
  }
  for (auto it = fixed_j.begin(); it != fixed_j.end(); ++it) {
    const int term = static_cast<int>(LatencyTermFromName(it.key(), source + ": fit.fixed"));
    if (owner[term] != -2) r.Fail("fit.fixed.", it.key(), "term is also fitted in fit.groups");
    const double v = r.Get<double>(fixed_j, it.key(), "fit.fixed.");
    if (!(v >= 0) || !std::isfinite(v)) r.Fail("fit.fixed.", it.key(), "must be a finite number >= 0");
    owner[term] = -1;
    fixed[term] = v;
  }
  for (int t = 0; t < kNumLatencyTerms; ++t) {
    if (owner[t] == -2) {
      r.Fail("fit.", "groups", "term \"" + std::string(kTermNames[t]) + "\" is neither fitted (fit.groups) nor fixed (fit.fixed)");
    }
  }
  if (group_names.empty()) r.Fail("fit.", "groups", "at least one group of terms must be fitted");

  // Models: terms from an architecture JSON or a .tflite.
  const json& models = r.Object(j, "models");
  std::map<std::string, LatencyTerms> model_terms;
  for (auto it = models.begin(); it != models.end(); ++it) {
    const std::string prefix = "models." + it.key() + ".";
    if (!it->is_object()) r.Fail("models.", it.key(), "expected an object");
    const bool has_arch = it->contains("arch"), has_tflite = it->contains("tflite");
    if (has_arch && has_tflite) r.Fail(prefix, "arch", "give either \"arch\" or \"tflite\", not both");
    if (!has_arch && !has_tflite) continue;  // listed for the record, not fitted
    const std::string rel = r.Get<std::string>(*it, has_arch ? "arch" : "tflite", prefix);
    const fs::path p = fs::path(rel).is_absolute() ? fs::path(rel) : base / rel;
    if (!fs::exists(p)) r.Fail(prefix, has_arch ? "arch" : "tflite", "file not found: " + p.string());
    const Graph g = has_arch ? LowerArch(LoadArch(p.string())) : ReadTflite(p.string());
    model_terms[it.key()] = GraphLatencyTerms(g);
  }

  // Measurements.
  LatencyFit out;
  std::vector<FitRow> rows;
  const json& meas = r.Array(j, "measurements");
  for (size_t i = 0; i < meas.size(); ++i) {
    const std::string prefix = "measurements[" + std::to_string(i) + "].";
    const json& m = meas[i];
    const std::string model = r.Get<std::string>(m, "model", prefix);
    const std::string board_name = r.Get<std::string>(m, "board", prefix);
    const double ms = r.Get<double>(m, "latency_ms", prefix);
    if (!(ms > 0) || !std::isfinite(ms)) r.Fail(prefix, "latency_ms", "must be a positive number, got " + m["latency_ms"].dump());
    if (!models.contains(model)) r.Fail(prefix, "model", "\"" + model + "\" is not listed in \"models\"");
    Board board;
    try {
      board = FindBoard(board_name);
    } catch (const InvalidInput& e) {
      r.Fail(prefix, "board", e.what());
    }
    auto terms = model_terms.find(model);
    if (terms == model_terms.end()) {
      out.skipped.push_back(model + " on " + board.name);
      continue;
    }
    FitRow row;
    row.model = model;
    row.board = board.name;
    row.measured_ms = ms;
    row.cycles = ms * board.clock_mhz * 1000.0 / core_factor.at(CoreName(board.core));
    for (int t = 0; t < kNumLatencyTerms; ++t) row.fixed += fixed[t] * terms->second[t];
    row.x.assign(group_names.size(), 0.0);
    for (size_t g = 0; g < group_names.size(); ++g) {
      for (int t : group_terms[g]) row.x[g] += terms->second[t];
    }
    rows.push_back(row);
  }
  std::set<std::string> boards, model_set;
  for (const FitRow& row : rows) {
    boards.insert(row.board);
    model_set.insert(row.model);
  }
  if (!boards.count(FindBoard(reference).name)) {
    r.Fail("fit.", "reference_board", "no measurement with an architecture on \"" + reference + "\"");
  }
  const std::string ref = FindBoard(reference).name;
  const size_t unknowns = group_names.size() + boards.size() - 1;
  if (rows.size() < unknowns + 1 || model_set.size() < group_names.size() + 1) {
    r.Fail("", "measurements",
           "too few usable measurements to fit: " + std::to_string(rows.size()) + " measurements of " +
               std::to_string(model_set.size()) + " models for " + std::to_string(unknowns) + " unknowns");
  }

  std::vector<const FitRow*> all;
  for (const FitRow& row : rows) all.push_back(&row);
  const FitResult full = FitRows(all, group_names.size(), ref);
  if (!full.ok) r.Fail("fit.", "groups", "the measurements cannot separate the groups (singular least squares)");
  for (size_t g = 0; g < group_names.size(); ++g) {
    if (full.group_coef[g] < 0) {
      r.Fail("fit.groups.", group_names[g],
             "the fit gives a negative coefficient (" + std::to_string(full.group_coef[g]) +
                 "): the measurements cannot identify this group; tie it to another group or fix it in fit.fixed");
    }
  }
  out.coefficients = fixed;
  for (size_t g = 0; g < group_names.size(); ++g) {
    for (int t : group_terms[g]) out.coefficients[t] = full.group_coef[g];
  }
  out.board_scale = full.scale;

  double fit_sq = 0, loo_sq = 0;
  int loo_n = 0;
  for (const FitRow& row : rows) {
    LatencyFitPoint p;
    p.model = row.model;
    p.board = row.board;
    p.measured_ms = row.measured_ms;
    const double to_ms = row.measured_ms / row.cycles;  // ms per (core-normalised) cycle on this board
    p.fitted_ms = Predict(row, full.group_coef, full.scale.at(row.board)) * to_ms;
    std::vector<const FitRow*> rest;
    for (const FitRow& o : rows) {
      if (o.model != row.model) rest.push_back(&o);
    }
    const FitResult loo = FitRows(rest, group_names.size(), ref);
    if (loo.ok && loo.scale.count(row.board)) {
      p.loo_ms = Predict(row, loo.group_coef, loo.scale.at(row.board)) * to_ms;
    } else {
      p.loo_ms = std::nan("");
    }
    fit_sq += p.fit_error() * p.fit_error();
    out.fit_max = std::max(out.fit_max, std::fabs(p.fit_error()));
    if (std::isfinite(p.loo_ms)) {
      loo_sq += p.loo_error() * p.loo_error();
      out.loo_max = std::max(out.loo_max, std::fabs(p.loo_error()));
      ++loo_n;
    }
    out.points.push_back(p);
  }
  out.fit_rms = std::sqrt(fit_sq / rows.size());
  out.loo_rms = loo_n > 0 ? std::sqrt(loo_sq / loo_n) : std::nan("");
  return out;
}

json ApplyLatencyFit(const json& calibration, const LatencyFit& fit) {
  json j = calibration;
  json coef = json::object();
  for (int t = 0; t < kNumLatencyTerms; ++t) coef[std::string(kTermNames[t])] = fit.coefficients[t];
  j["coefficients"] = coef;
  if (!j.contains("boards") || !j["boards"].is_object()) j["boards"] = json::object();
  json scale = json::object();
  for (const auto& [b, s] : fit.board_scale) scale[b] = s;
  j["boards"]["fitted_scale"] = scale;
  json points = json::array();
  for (const LatencyFitPoint& p : fit.points) {
    points.push_back({{"model", p.model},
                      {"board", p.board},
                      {"measured_ms", p.measured_ms},
                      {"fitted_ms", std::round(p.fitted_ms * 10) / 10},
                      {"loo_ms", std::round(p.loo_ms * 10) / 10},
                      {"loo_error", Percent(p.loo_error())}});
  }
  std::set<std::string> models, boards;
  for (const LatencyFitPoint& p : fit.points) {
    models.insert(p.model);
    boards.insert(p.board);
  }
  std::string board_list;
  for (const std::string& b : boards) board_list += (board_list.empty() ? "" : ", ") + b;
  j["fit_report"] = {
      {"summary", "fitted on " + std::to_string(fit.points.size()) + " TinyEngine measurements of " +
                      std::to_string(models.size()) + " models (" + board_list + "); leave-one-model-out error rms " +
                      Percent(fit.loo_rms) + ", max " + Percent(fit.loo_max)},
      {"fit_rms", Percent(fit.fit_rms)},
      {"fit_max", Percent(fit.fit_max)},
      {"loo_rms", Percent(fit.loo_rms)},
      {"loo_max", Percent(fit.loo_max)},
      {"skipped", fit.skipped},
      {"points", points}};
  return j;
}

}  // namespace mcunet
