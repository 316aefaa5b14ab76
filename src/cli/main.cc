// mcunet: command line of the MCUNet (TinyNAS + TinyEngine) library.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "mcunet/error.h"

namespace mcunet::cli {
int& ExitStatus() {
  static int status = 0;
  return status;
}
}  // namespace mcunet::cli

int main(int argc, char** argv) {
#if MCUNET_WITH_NN
  // libtorch's OpenMP threads spin while waiting; on a machine shared with
  // other jobs that makes 2-thread training ~6x slower than 1 thread
  // (measured). libgomp reads OMP_WAIT_POLICY when it loads, so set it and
  // re-execute once, for the verbs that train or evaluate networks.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    bool nn_verb = false;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      nn_verb = nn_verb || a == "train-supernet" || a == "finetune" || a == "search";
    }
    if (nn_verb) {
      ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
      ::execv("/proc/self/exe", argv);  // returns only on failure: carry on
    }
  }
#endif
  CLI::App app{"mcunet: find neural networks that fit a microcontroller, and run them there"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  app.parse_complete_callback([&] { spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info); });

  mcunet::cli::RegisterBoards(app);
  mcunet::cli::RegisterCost(app);
  mcunet::cli::RegisterSweep(app);
  mcunet::cli::RegisterLatency(app);
  mcunet::cli::RegisterSearch(app);
  mcunet::cli::RegisterReport(app);
  mcunet::cli::RegisterCodegen(app);
  mcunet::cli::RegisterFirmware(app);
#if MCUNET_WITH_NN
  mcunet::cli::RegisterTrainSupernet(app);
  mcunet::cli::RegisterFinetune(app);
#endif
  mcunet::cli::RegisterRun(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const mcunet::Error& e) {
    std::fprintf(stderr, "mcunet: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mcunet: internal error: %s\n", e.what());
    return 1;
  }
  return mcunet::cli::ExitStatus();
}
