// Sub-commands of the `mcunet` command line. Each Register* adds one verb to
// the app; its callback throws mcunet::Error on bad input (exit code 2).
#pragma once

#include <CLI/CLI.hpp>

namespace mcunet::cli {

void RegisterBoards(CLI::App& app);
void RegisterCost(CLI::App& app);
void RegisterSweep(CLI::App& app);
void RegisterLatency(CLI::App& app);
void RegisterSearch(CLI::App& app);
void RegisterReport(CLI::App& app);
void RegisterCodegen(CLI::App& app);  // codegen, run-host, quantize
void RegisterQuantize(CLI::App& app);  // called by RegisterCodegen
void RegisterFirmware(CLI::App& app);  // firmware, qemu
#if MCUNET_WITH_NN
void RegisterTrainSupernet(CLI::App& app);  // needs mcunet_nn (libtorch)
void RegisterFinetune(CLI::App& app);
#endif
void RegisterRun(CLI::App& app);       // run: the whole pipeline (python/mcunet/pipeline.py)

// Exit status a command wants when it succeeds (e.g. a firmware's status).
int& ExitStatus();

}  // namespace mcunet::cli
