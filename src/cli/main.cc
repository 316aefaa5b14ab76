// mcunet: command line of the MCUNet (TinyNAS + TinyEngine) library.
#include <cstdio>
#include <exception>

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
