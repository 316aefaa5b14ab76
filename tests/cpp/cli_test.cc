// The `mcunet` command line: output formats and exit codes.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

namespace {

struct Result {
  int status = -1;
  std::string out;  // stdout + stderr
};

Result RunCli(const std::string& args) {
  Result r;
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

std::string TempFile(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + "/" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

const std::string kZoo = MCUNET_TEST_DATA "/zoo/";

TEST(Cli, BoardsListsTheFourTargets) {
  const Result r = RunCli("boards");
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* b : {"stm32f412", "stm32f746", "stm32f765", "stm32h743"}) {
    EXPECT_NE(r.out.find(b), std::string::npos) << b;
  }
}

TEST(Cli, CostJsonHasTheDocumentedKeys) {
  const Result r = RunCli("cost --arch " + kZoo + "mcunet-256kb-1mb_imagenet.json --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["macs"], 67287200);
  EXPECT_EQ(j["params"], 729392);
  EXPECT_EQ(j["params_folded"], 713904);
  for (const char* k : {"flash_bytes", "peak_sram_bytes", "arena_bytes", "scratch_bytes", "plan"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
}

TEST(Cli, CostTextReportOnTflite) {
  const Result r = RunCli("cost --model " MCUNET_TEST_DATA "/mcunet-vww1.tflite --planner tflm --timeline");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("peak_sram_bytes"), std::string::npos);
  EXPECT_NE(r.out.find("DEPTHWISE_CONV_2D"), std::string::npos);
}

TEST(Cli, BadInputExitsWithTwoAndNamesTheProblem) {
  Result r = RunCli("cost --arch /no/such/file.json");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("/no/such/file.json"), std::string::npos) << r.out;

  const std::string bad_json = TempFile("bad.json", "{\"schema_version\": 1, ");
  r = RunCli("cost --arch " + bad_json);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("malformed JSON"), std::string::npos) << r.out;

  const std::string no_res = TempFile("nores.json",
                                      R"({"schema_version":1,"num_classes":2,"first_conv":{"out_channels":8},"blocks":[]})");
  r = RunCli("cost --arch " + no_res);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("resolution"), std::string::npos) << r.out;

  r = RunCli("cost --arch " + kZoo + "mcunet-5fps_imagenet.json --board esp32");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown board 'esp32'"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("did you mean"), std::string::npos) << r.out;  // nothing close

  r = RunCli("cost --arch " + kZoo + "mcunet-5fps_imagenet.json --board stm32f764");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown board 'stm32f764'; did you mean 'stm32f746'?"), std::string::npos) << r.out;

  r = RunCli("cost --arch " + kZoo + "mcunet-5fps_imagenet.json --planner magic");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown planner"), std::string::npos) << r.out;
  r = RunCli("cost --arch " + kZoo + "mcunet-5fps_imagenet.json --planner tinyengin");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("did you mean 'tinyengine'?"), std::string::npos) << r.out;

  const std::string empty = TempFile("empty.tflite", "");
  r = RunCli("cost --model " + empty);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("empty.tflite"), std::string::npos) << r.out;

  r = RunCli("cost");
  EXPECT_EQ(r.status, 2);
  r = RunCli("no-such-verb");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
