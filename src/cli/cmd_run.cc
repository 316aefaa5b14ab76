// `mcunet run`: the whole MCUNet pipeline (data -> sweep -> supernet ->
// search -> fine-tune -> int8 -> codegen -> firmware -> report).
//
// The driver is python/mcunet/pipeline.py: every stage is itself an
// `mcunet <verb>` of this binary (so each step can be re-run by hand), and
// the report needs matplotlib. This verb checks its arguments, points the
// driver at this binary and the source tree, and runs it with Debian's
// /usr/bin/python3 (the interpreter that sees python3-torch and friends).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "mcunet/board.h"
#include "mcunet/error.h"

namespace mcunet::cli {

namespace {

namespace fs = std::filesystem;

struct RunOptions {
  std::string config;
  std::string board;
  std::string out = "runs/main";
  bool quick = false;
};

std::string SourceDir() {
  if (const char* env = std::getenv("MCUNET_SOURCE_DIR")) return env;
  return MCUNET_SOURCE_DIR_BUILT_IN;
}

std::string Python() {
  if (const char* env = std::getenv("MCUNET_PYTHON")) return env;
  return "/usr/bin/python3";
}

}  // namespace

void RegisterRun(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run",
                                 "The whole MCUNet pipeline on Fashion-MNIST: sweep, supernet, search, "
                                 "fine-tune, int8, codegen, firmware under QEMU, report (resumable)");
  cmd->add_option("--config", o->config, "Pipeline config JSON (see python/mcunet/pipeline.py)");
  cmd->add_option("--board", o->board, "Target board (default stm32f746)");
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->add_flag("--quick", o->quick, "Tiny settings (a few minutes; used by the tests)");
  cmd->callback([o] {
    if (!o->board.empty()) FindBoard(o->board);  // unknown board: clear error (with a suggestion) now
    if (!o->config.empty() && !fs::exists(o->config)) {
      throw FileNotFound("run: config file '" + o->config + "' does not exist");
    }
    const std::string python = Python();
    if (access(python.c_str(), X_OK) != 0) {
      throw Error("run: " + python + " not found: install the Debian packages python3, python3-numpy and "
                  "python3-matplotlib (or set MCUNET_PYTHON)");
    }
    const fs::path src = SourceDir();
    const fs::path package = src / "python";
    if (!fs::exists(package / "mcunet" / "pipeline.py")) {
      throw FileNotFound("run: " + (package / "mcunet" / "pipeline.py").string() +
                         " not found (set MCUNET_SOURCE_DIR to the mcunet source tree)");
    }
    std::vector<std::string> args = {python, "-m", "mcunet.pipeline", "--out", o->out};
    if (!o->config.empty()) args.insert(args.end(), {"--config", o->config});
    if (!o->board.empty()) args.insert(args.end(), {"--board", o->board});
    if (o->quick) args.push_back("--quick");
    const char* old = std::getenv("PYTHONPATH");
    const std::string pythonpath = package.string() + (old && *old ? ":" + std::string(old) : "");
    setenv("PYTHONPATH", pythonpath.c_str(), 1);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    setenv("MCUNET_CLI", self.c_str(), 0);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(python.c_str(), argv.data());
    throw Error("run: cannot start " + python);
  });
}

}  // namespace mcunet::cli
