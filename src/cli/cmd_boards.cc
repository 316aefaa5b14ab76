#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mcunet/board.h"

namespace mcunet::cli {

void RegisterBoards(CLI::App& app) {
  auto* cmd = app.add_subcommand("boards", "List the built-in target boards");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([json] {
    if (*json) {
      nlohmann::json all = nlohmann::json::array();
      for (const Board& b : BuiltinBoards()) all.push_back(BoardToJson(b));
      std::printf("%s\n", all.dump(2).c_str());
      return;
    }
    std::printf("%-10s %-10s %9s %9s %6s\n", "board", "core", "SRAM kB", "Flash kB", "MHz");
    for (const Board& b : BuiltinBoards()) {
      std::printf("%-10s %-10s %9lld %9lld %6d%s\n", b.name.c_str(), CoreName(b.core).c_str(),
                  static_cast<long long>(b.sram_bytes / 1024), static_cast<long long>(b.flash_bytes / 1024),
                  b.clock_mhz, b.name == kDefaultBoard ? "  (default)" : "");
    }
    std::printf("(kB = KiB, 1024 bytes; user boards: pass a JSON file with name, core, sram_kb, flash_kb, clock_mhz)\n");
  });
}

}  // namespace mcunet::cli
