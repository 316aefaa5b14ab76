// Stage-1 search-space optimisation sweeps: statistics, determinism across
// thread counts, output files, boards where nothing fits, the CLI verb.
#include "mcunet/sweep.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/search_space.h"

namespace mcunet {
namespace {

const std::string kSpaces = MCUNET_SOURCE_DIR "/search_spaces/";

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

nlohmann::json SmallSpaceJson() {
  std::ifstream in(kSpaces + "mcunet.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["name"] = "mcunet-small";
  j["width_multipliers"] = {0.3, 0.5};
  j["resolutions"] = {96, 128, 176};
  return j;
}

SearchSpace SmallSpace() { return SearchSpaceFromJson(SmallSpaceJson(), "small-space"); }

SweepOptions SmallOptions() {
  SweepOptions o;
  o.boards = {FindBoard("stm32f746"), FindBoard("stm32f412")};
  o.planners = {"tinyengine", "tflm"};
  o.samples = 60;
  o.seed = 5;
  o.num_threads = 2;
  return o;
}

std::string TempDir(const std::string& name) {
  const std::string d = testing::TempDir() + "/mcunet_sweep_test_" + name;
  std::filesystem::remove_all(d);
  return d;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/mcunet_sweep_test_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string TinyBoardFile() {
  return WriteTemp("tiny_board.json",
                   R"({"name": "tiny", "core": "cortex-m4", "sram_kb": 2, "flash_kb": 64, "clock_mhz": 48})");
}

TEST(Sweep, CountsFractionsAndCdf) {
  const SearchSpace space = SmallSpace();
  const SweepOptions o = SmallOptions();
  const SweepResult r = RunSweep(space, o);
  ASSERT_EQ(r.cases.size(), 4u);  // 2 boards x 2 planners, boards-major
  EXPECT_EQ(r.cases[0].board.name, "stm32f746");
  EXPECT_EQ(r.cases[0].planner, "tinyengine");
  EXPECT_EQ(r.cases[1].planner, "tflm");
  EXPECT_EQ(r.cases[2].board.name, "stm32f412");
  EXPECT_EQ(r.evaluations, 6 * 60 * 2);
  for (const SweepCase& c : r.cases) {
    ASSERT_EQ(c.subspaces.size(), 6u);
    int ranked = 0;
    for (const SubSpaceStats& s : c.subspaces) {
      EXPECT_EQ(s.samples, 60);
      EXPECT_GE(s.fit_fraction, 0.0);
      EXPECT_LE(s.fit_fraction, 1.0);
      EXPECT_EQ(s.fitting, static_cast<int>(s.fitting_macs.size()));
      EXPECT_DOUBLE_EQ(s.fit_fraction, s.fitting / 60.0);
      EXPECT_TRUE(std::is_sorted(s.fitting_macs.begin(), s.fitting_macs.end()));
      EXPECT_GT(s.min_peak_sram_bytes, 0);
      EXPECT_GT(s.min_flash_bytes, 0);
      EXPECT_GT(s.mean_macs_all, 0.0);
      if (s.fitting > 0) {
        ASSERT_EQ(s.quantile_macs.size(), std::size(kSweepQuantiles));
        EXPECT_TRUE(std::is_sorted(s.quantile_macs.begin(), s.quantile_macs.end()));
        EXPECT_EQ(s.quantile_macs.front(), s.fitting_macs.front());
        EXPECT_EQ(s.quantile_macs.back(), s.fitting_macs.back());
        EXPECT_GE(s.mean_macs, static_cast<double>(s.fitting_macs.front()));
        EXPECT_LE(s.mean_macs, static_cast<double>(s.fitting_macs.back()));
        const auto cdf = CdfPoints(s.fitting_macs, 11);
        EXPECT_EQ(cdf.size(), 11u);
        EXPECT_TRUE(std::is_sorted(cdf.begin(), cdf.end()));
      } else {
        EXPECT_EQ(s.mean_macs, 0.0);
        EXPECT_EQ(s.rank, -1);
      }
      ranked += s.rank >= 0;
    }
    // The best has rank 0 and the largest mean among ranked sub-spaces.
    if (c.best >= 0) {
      EXPECT_EQ(c.subspaces[c.best].rank, 0);
      for (const SubSpaceStats& s : c.subspaces) {
        if (s.rank >= 0) EXPECT_LE(s.mean_macs, c.subspaces[c.best].mean_macs);
      }
      EXPECT_TRUE(Has(c.summary, c.subspaces[c.best].sub.Label())) << c.summary;
    }
    EXPECT_GT(ranked, 0) << c.summary;
  }
}

TEST(Sweep, ResultsDoNotDependOnTheThreadCount) {
  const SearchSpace space = SmallSpace();
  SweepOptions o = SmallOptions();
  o.num_threads = 1;
  const SweepResult one = RunSweep(space, o);
  o.num_threads = 2;
  const SweepResult two = RunSweep(space, o);
  o.num_threads = 3;
  const SweepResult three = RunSweep(space, o);
  EXPECT_EQ(one.threads, 1);
  EXPECT_EQ(two.threads, 2);
  const std::string j1 = SweepToJson(one).dump();
  EXPECT_EQ(j1, SweepToJson(two).dump());
  EXPECT_EQ(j1, SweepToJson(three).dump());
  EXPECT_EQ(SweepToCsv(one), SweepToCsv(two));

  o.seed = 6;
  EXPECT_NE(j1, SweepToJson(RunSweep(space, o)).dump()) << "another seed gives other samples";
}

TEST(Sweep, AgreesWithTheCostModelAndFits) {
  // Rebuild the samples of one sub-space and check the sweep's numbers
  // against EvaluateCost + Fits.
  const SearchSpace space = SmallSpace();
  const SweepOptions o = SmallOptions();
  const SweepResult r = RunSweep(space, o);
  for (size_t ci = 0; ci < r.cases.size(); ++ci) {
    const SweepCase& c = r.cases[ci];
    const SubSpaceStats& s = c.subspaces[4];  // w0.5-r128
    ASSERT_EQ(s.sub.Label(), "w0.5-r128");
    int fitting = 0;
    int64_t min_peak = INT64_MAX;
    std::vector<int64_t> macs;
    for (int j = 0; j < o.samples; ++j) {
      Rng rng = SweepSampleRng(o.seed, s.sub, j);
      const Arch a = space.Decode(s.sub, space.Sample(rng));
      const CostReport cr = EvaluateCost(a, c.planner);
      min_peak = std::min(min_peak, cr.peak_sram_bytes());
      if (Fits(cr, c.board).fits) {
        ++fitting;
        macs.push_back(cr.counts.macs);
      }
    }
    std::sort(macs.begin(), macs.end());
    EXPECT_EQ(s.fitting, fitting) << c.board.name << " " << c.planner;
    EXPECT_EQ(s.fitting_macs, macs);
    EXPECT_EQ(s.min_peak_sram_bytes, min_peak);
  }
}

TEST(Sweep, LeanerEngineAdmitsMoreNetworks) {
  const SearchSpace space = SmallSpace();
  const SweepResult r = RunSweep(space, SmallOptions());
  for (size_t b = 0; b < 2; ++b) {
    const SweepCase& te = r.cases[2 * b];
    const SweepCase& tflm = r.cases[2 * b + 1];
    int te_fit = 0, tflm_fit = 0;
    for (size_t i = 0; i < te.subspaces.size(); ++i) {
      te_fit += te.subspaces[i].fitting;
      tflm_fit += tflm.subspaces[i].fitting;
      EXPECT_LE(te.subspaces[i].min_peak_sram_bytes, tflm.subspaces[i].min_peak_sram_bytes);
    }
    EXPECT_GE(te_fit, tflm_fit) << te.board.name;
  }
}

TEST(Sweep, TinyBoardWhereNothingFitsReportsTheSmallestPeak) {
  const SearchSpace space = SmallSpace();
  SweepOptions o = SmallOptions();
  o.boards = {FindBoard(TinyBoardFile())};
  o.planners = {"tinyengine"};
  o.samples = 20;
  const SweepResult r = RunSweep(space, o);
  ASSERT_EQ(r.cases.size(), 1u);
  const SweepCase& c = r.cases[0];
  EXPECT_EQ(c.best, -1);
  EXPECT_EQ(c.best_any_fit, -1);
  EXPECT_EQ(c.best_stats(), nullptr);
  EXPECT_GT(c.min_peak_sram_bytes, 2 * 1024);
  EXPECT_TRUE(Has(c.summary, "nothing fits tiny")) << c.summary;
  EXPECT_TRUE(Has(c.summary, "smallest peak SRAM")) << c.summary;
  int64_t min_peak = INT64_MAX;
  for (const SubSpaceStats& s : c.subspaces) {
    EXPECT_EQ(s.fitting, 0);
    min_peak = std::min(min_peak, s.min_peak_sram_bytes);
  }
  EXPECT_EQ(c.min_peak_sram_bytes, min_peak);
  const nlohmann::json j = SweepToJson(r);
  EXPECT_TRUE(j["cases"][0]["nothing_fits"].get<bool>());
  EXPECT_TRUE(j["cases"][0]["best"].is_null());
  EXPECT_TRUE(Has(SweepComparisonTable(r), "nothing fits"));
}

TEST(Sweep, MinFitFractionFiltersTheRanking) {
  const SearchSpace space = SmallSpace();
  SweepOptions o = SmallOptions();
  o.min_fit_fraction = 0.0;
  const SweepResult all = RunSweep(space, o);
  o.min_fit_fraction = 0.5;
  const SweepResult half = RunSweep(space, o);
  for (size_t ci = 0; ci < all.cases.size(); ++ci) {
    EXPECT_EQ(all.cases[ci].best, all.cases[ci].best_any_fit);
    EXPECT_EQ(half.cases[ci].best_any_fit, all.cases[ci].best_any_fit);
    for (const SubSpaceStats& s : half.cases[ci].subspaces) {
      if (s.rank >= 0) EXPECT_GE(s.fit_fraction, 0.5);
    }
  }
}

TEST(Sweep, WritesVersionedJsonAndCsv) {
  const SearchSpace space = SmallSpace();
  const SweepResult r = RunSweep(space, SmallOptions());
  const std::string dir = TempDir("sweep_out");
  WriteSweep(r, dir);
  std::ifstream jin(dir + "/sweep.json");
  const nlohmann::json j = nlohmann::json::parse(jin);
  EXPECT_EQ(j["schema_version"], kSweepSchemaVersion);
  EXPECT_EQ(j["kind"], "sweep");
  EXPECT_EQ(j["samples"], 60);
  EXPECT_EQ(j["space"]["name"], "mcunet-small");
  ASSERT_EQ(j["cases"].size(), 4u);
  const auto& sub = j["cases"][0]["subspaces"][0];
  for (const char* k : {"label", "width_mult", "resolution", "samples", "fitting", "fit_fraction", "mean_macs",
                        "quantile_macs", "cdf_macs", "min_peak_sram_bytes", "rank"}) {
    EXPECT_TRUE(sub.contains(k)) << k;
  }
  for (const auto& c : j["cases"]) {
    for (const auto& s : c["subspaces"]) {
      const auto cdf = s["cdf_macs"].get<std::vector<int64_t>>();
      EXPECT_TRUE(std::is_sorted(cdf.begin(), cdf.end()));
      EXPECT_EQ(cdf.size(), s["fitting"].get<int>() > 0 ? 101u : 0u);
    }
  }
  std::ifstream cin(dir + "/sweep.csv");
  std::string line;
  int lines = 0;
  std::getline(cin, line);
  EXPECT_EQ(line.rfind("board,planner,subspace,width_mult,resolution", 0), 0u) << line;
  while (std::getline(cin, line)) ++lines;
  EXPECT_EQ(lines, 4 * 6);
  EXPECT_FALSE(std::filesystem::exists(dir + "/sweep.json.tmp"));
}

TEST(Sweep, BadOptionsAreInvalidInput) {
  const SearchSpace space = SmallSpace();
  SweepOptions o = SmallOptions();
  o.samples = 0;
  EXPECT_THROW(RunSweep(space, o), InvalidInput);
  o = SmallOptions();
  o.planners = {"tinyengine", "nope"};
  EXPECT_THROW(RunSweep(space, o), InvalidInput);
  o = SmallOptions();
  o.boards.clear();
  EXPECT_THROW(RunSweep(space, o), InvalidInput);
  o = SmallOptions();
  o.cdf_points = 1;
  EXPECT_THROW(RunSweep(space, o), InvalidInput);
  o = SmallOptions();
  o.min_fit_fraction = 1.5;
  EXPECT_THROW(RunSweep(space, o), InvalidInput);
}

// ---- CLI -------------------------------------------------------------------------

struct CliResult {
  int status = -1;
  std::string out;  // stdout + stderr
};

CliResult RunCli(const std::string& args) {
  CliResult r;
  const std::string cmd = std::string(MCUNET_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(SweepCli, WritesResultsAndPrintsTheComparison) {
  const std::string space = WriteTemp("cli_space.json", SmallSpaceJson().dump());
  const std::string out = TempDir("cli_sweep");
  const CliResult r = RunCli("sweep --space " + space +
                             " --boards stm32f746,f412 --planners tinyengine,tflm --samples 30 --seed 3 --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out + "/sweep.json"));
  EXPECT_TRUE(std::filesystem::exists(out + "/sweep.csv"));
  EXPECT_TRUE(Has(r.out, "best (W,R)")) << r.out;
  EXPECT_TRUE(Has(r.out, "stm32f412")) << r.out;
  EXPECT_TRUE(Has(r.out, "tflm")) << r.out;

  // Same seed, other thread count: the same JSON.
  const std::string out1 = TempDir("cli_sweep_1");
  const CliResult r1 = RunCli("sweep --space " + space +
                              " --boards stm32f746,f412 --planners tinyengine,tflm --samples 30 --seed 3 --threads 1"
                              " --out " + out1);
  ASSERT_EQ(r1.status, 0) << r1.out;
  std::ifstream a(out + "/sweep.json"), b(out1 + "/sweep.json");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
}

TEST(SweepCli, NothingFitsIsReportedNotAnError) {
  const std::string space = WriteTemp("cli_space2.json", SmallSpaceJson().dump());
  const CliResult r = RunCli("sweep --space " + space + " --board " + TinyBoardFile() + " --samples 5 --out " +
                             TempDir("cli_tiny"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "nothing fits tiny")) << r.out;
  EXPECT_TRUE(Has(r.out, "smallest peak SRAM")) << r.out;
}

TEST(SweepCli, BadInputExitsWithTwo) {
  const std::string space = WriteTemp("cli_space3.json", SmallSpaceJson().dump());
  nlohmann::json bad = SmallSpaceJson();
  bad["kernel_sizes"] = nlohmann::json::array();
  const std::string bad_space = WriteTemp("cli_bad_space.json", bad.dump());
  const std::string out = " --out " + TempDir("cli_bad");
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"sweep --space /nonexistent/space.json" + out, "/nonexistent/space.json"},
      {"sweep --space " + bad_space + out, "kernel_sizes: empty choice list"},
      {"sweep --space " + space + " --board stm32f999" + out, "stm32f999"},
      {"sweep --space " + space + " --planner nope" + out, "nope"},
      {"sweep --space " + space + " --samples 0" + out, "samples"},
      {"sweep --space " + space + " --boards f746,,f412" + out, "empty item"},
      {"sweep --space " + space, "--out"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunCli(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_TRUE(Has(r.out, c.message)) << c.args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace mcunet
