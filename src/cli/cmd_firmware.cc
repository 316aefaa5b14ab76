// `mcunet firmware`: builds the firmware ELF of a generated model for a board.
// `mcunet qemu`: builds it for a QEMU machine, runs it, prints what the
// firmware measured, and exits with the firmware's status.
//
// Both drive the separate CMake project firmware/ (arm-none-eabi-gcc, see
// firmware/CMakeLists.txt): configure + build into --out, then (qemu) run
//   qemu-system-arm -M mps2-an500|mps2-an386 -cpu cortex-m7|cortex-m4
//     -display none -monitor none -serial null
//     -semihosting-config enable=on,target=native -kernel ELF
// under a timeout. The firmware prints "key value" lines (firmware/main.c);
// --json turns them into one JSON object.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "mcunet/board.h"
#include "mcunet/error.h"
#include "mcunet/search_space.h"

namespace mcunet::cli {

namespace {

namespace fs = std::filesystem;

// ---- Paths of the mcunet sources ----------------------------------------------------

std::string SourceDirFromEnvOr(const char* env_name, const char* built_in) {
  if (const char* env = std::getenv(env_name); env && *env) return env;
  return built_in;
}

std::string FirmwareDir() {
#if defined(MCUNET_FIRMWARE_DIR)
  const char* built_in = MCUNET_FIRMWARE_DIR;
#elif defined(MCUNET_DEFAULT_MODELS_DIR)
  const std::string guess = (fs::path(MCUNET_DEFAULT_MODELS_DIR) / ".." / ".." / "firmware").lexically_normal();
  const char* built_in = guess.c_str();
#else
  const char* built_in = "";
#endif
  const std::string dir = SourceDirFromEnvOr("MCUNET_FIRMWARE_DIR", built_in);
  if (dir.empty() || !fs::exists(fs::path(dir) / "CMakeLists.txt")) {
    throw InvalidInput("firmware: no firmware project at '" + dir +
                       "'; set MCUNET_FIRMWARE_DIR to firmware/ of the mcunet sources");
  }
  return dir;
}

std::string EngineDir() {
#if defined(MCUNET_ENGINE_DIR)
  const char* built_in = MCUNET_ENGINE_DIR;
#elif defined(MCUNET_DEFAULT_MODELS_DIR)
  const std::string guess = (fs::path(MCUNET_DEFAULT_MODELS_DIR) / ".." / ".." / "engine").lexically_normal();
  const char* built_in = guess.c_str();
#else
  const char* built_in = "";
#endif
  const std::string dir = SourceDirFromEnvOr("MCUNET_ENGINE_DIR", built_in);
  if (dir.empty() || !fs::exists(fs::path(dir) / "runtime" / "mcunet_kernels.h")) {
    throw InvalidInput("firmware: no int8 runtime at '" + dir +
                       "/runtime'; set MCUNET_ENGINE_DIR to engine/ of the mcunet sources");
  }
  return dir;
}

// ---- Processes ---------------------------------------------------------------------------

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::error_code ec;
    const fs::path p = fs::path(dir) / program;
    if (fs::exists(p, ec) && !fs::is_directory(p, ec)) return true;
  }
  return false;
}

void RequireTool(const std::string& program, const std::string& packages) {
  if (!OnPath(program)) {
    throw Error("firmware: '" + program + "' not found on PATH; install the Debian package(s) " + packages +
                " (apt-get install --no-install-recommends " + packages + ")");
  }
}

struct RunResult {
  int status = -1;     // exit status; -1 if the process did not exit normally
  std::string output;  // stdout and stderr
};

RunResult Run(const std::string& cmd) {
  RunResult r;
  FILE* p = popen((cmd + " 2>&1 </dev/null").c_str(), "r");
  if (!p) throw Error("firmware: cannot run: " + cmd);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int st = pclose(p);
  if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
  return r;
}

// ---- Targets ---------------------------------------------------------------------------------

struct Target {
  std::string name;          // firmware/CMakeLists.txt MCUNET_TARGET
  std::string qemu_machine;  // "" for real boards
  std::string qemu_cpu;
};

const std::vector<Target>& Targets() {
  static const std::vector<Target> t = {{"qemu-m7", "mps2-an500", "cortex-m7"},
                                        {"qemu-m4", "mps2-an386", "cortex-m4"},
                                        {"stm32f412", "", ""},
                                        {"stm32f746", "", ""},
                                        {"stm32f765", "", ""},
                                        {"stm32h743", "", ""}};
  return t;
}

std::string TargetList() {
  std::string s;
  for (const Target& t : Targets()) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

// qemu-m7 / qemu-m4, or any spelling of the four boards FindBoard accepts
// ("STM32F746", "f746"). Board JSON files have no linker script.
Target FindTarget(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Target& t : Targets()) {
    if (t.name == lower) return t;
  }
  if (lower.size() < 5 || lower.substr(lower.size() - 5) != ".json") {
    try {
      const Board b = FindBoard(name);
      for (const Target& t : Targets()) {
        if (t.name == b.name) return t;
      }
    } catch (const InvalidInput&) {
    }
  }
  throw InvalidInput("firmware: no firmware target '" + name + "'; targets: " + TargetList());
}

// ---- The model directory -------------------------------------------------------------------

struct ModelInfo {
  std::string dir;
  std::map<std::string, int64_t> defines;  // MCUNET_<NAME> integer macros of model.h
  int64_t Get(const std::string& name) const { return defines.at(name); }
};

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw FileNotFound("firmware: cannot read '" + p.string() + "'");
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

ModelInfo ReadModelDir(const std::string& dir) {
  ModelInfo m;
  m.dir = fs::absolute(dir).lexically_normal().string();
  if (!fs::is_directory(m.dir)) throw FileNotFound("firmware: model directory '" + dir + "' does not exist");
  for (const char* f : {"model.h", "model.c"}) {
    if (!fs::exists(fs::path(m.dir) / f)) {
      throw InvalidInput("firmware: '" + dir + "' has no " + f +
                         "; generate it with `mcunet codegen --model FILE.tflite --board NAME --out " + dir + "`");
    }
  }
  const std::string header = ReadFile(fs::path(m.dir) / "model.h");
  if (header.find("Generated by mcunet codegen") == std::string::npos) {
    throw InvalidInput("firmware: '" + dir + "/model.h' was not made by `mcunet codegen`");
  }
  static const std::regex def(R"(#define MCUNET_([A-Z_]+) (-?[0-9]+)\b)");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), def); it != std::sregex_iterator(); ++it) {
    m.defines[(*it)[1].str()] = std::stoll((*it)[2].str());
  }
  for (const char* name : {"INPUT_BYTES", "OUTPUT_BYTES", "ARENA_BYTES", "SCRATCH_BYTES", "PEAK_SRAM_BYTES"}) {
    if (!m.defines.count(name)) {
      throw InvalidInput("firmware: '" + dir + "/model.h' does not define MCUNET_" + std::string(name) +
                         ": it comes from another version of `mcunet codegen` (or a --prefix other than "
                         "'mcunet'); regenerate it");
    }
  }
  return m;
}

std::vector<int8_t> ReadInput(const std::string& path, const ModelInfo& m) {
  if (!fs::exists(path)) throw FileNotFound("firmware: input file '" + path + "' does not exist");
  const std::string bytes = ReadFile(path);
  if (static_cast<int64_t>(bytes.size()) != m.Get("INPUT_BYTES")) {
    throw InvalidInput("firmware: input '" + path + "' has " + std::to_string(bytes.size()) +
                       " bytes, the model's input needs " + std::to_string(m.Get("INPUT_BYTES")) +
                       " int8 values (MCUNET_INPUT_BYTES in model.h)");
  }
  return std::vector<int8_t>(bytes.begin(), bytes.end());
}

// ---- Build ------------------------------------------------------------------------------------

struct BuildOptions {
  std::string model_dir;
  std::string board;
  std::string out_dir;
  std::string input_path;  // raw int8 file linked into the firmware ("" = none)
  int64_t stack_bytes = 4096;
  std::string opt_flags = "-O2";
  std::string console = "semihost";
  std::string kernels = "dsp";  // dsp (Armv7E-M SIMD) or portable
  std::string app = "model";    // model (main.c) or selftest (selftest.c, no model)
  bool quiet = false;
};

struct BuildResult {
  std::string elf;
  std::string size_report;   // arm-none-eabi-size (Berkeley format)
  std::string memory_usage;  // ld --print-memory-usage table
};

// The lines of ld's memory-usage table in a build log.
std::string MemoryUsage(const std::string& log) {
  static const std::regex row(R"(^\s*\w+:\s+[0-9]+ [KMG]?B\s+[0-9]+ [KMG]?B\s+.*%$)");
  std::string out;
  std::istringstream ss(log);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.rfind("Memory region", 0) == 0 || std::regex_match(line, row)) out += line + "\n";
  }
  return out;
}

// Turns a failed link into the reason a user can act on.
[[noreturn]] void ThrowBuildFailure(const std::string& stage, const std::string& log, const ModelInfo& m,
                                    const Target& t, const BuildOptions& o) {
  static const std::regex overflow(R"(region `(\w+)' overflowed by ([0-9]+) bytes)");
  std::smatch match;
  if (std::regex_search(log, match, overflow)) {
    const bool ram = match[1].str() == "RAM";
    std::string what = ram ? "SRAM: arena " + std::to_string(m.Get("ARENA_BYTES")) + " B + scratch " +
                                 std::to_string(m.Get("SCRATCH_BYTES")) + " B + stack " +
                                 std::to_string(o.stack_bytes) + " B + guards and runtime data exceed the board's SRAM"
                           : "Flash: weights + code + start-up exceed the board's Flash";
    throw InvalidInput("firmware: the model in '" + m.dir + "' does not fit " + t.name + ": " + what + " by " +
                       match[2].str() + " bytes (ld: region `" + match[1].str() + "' overflowed by " + match[2].str() +
                       " bytes)\n" + MemoryUsage(log));
  }
  if (log.find("nano.specs") != std::string::npos || log.find("-lc_nano") != std::string::npos) {
    throw Error(
        "firmware: newlib for arm-none-eabi is missing; install the Debian package "
        "libnewlib-arm-none-eabi\n" +
        log);
  }
  throw Error("firmware: " + stage + " failed for " + t.name + ":\n" + log);
}

BuildResult BuildFirmware(const BuildOptions& o, const Target& t, const ModelInfo& m) {
  RequireTool("cmake", "cmake");
  RequireTool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi");
  const std::string firmware = FirmwareDir();
  const std::string engine = EngineDir();
  const std::string out = fs::absolute(o.out_dir).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InvalidInput("firmware: cannot create '" + out + "': " + ec.message());

  std::string configure = "cmake -S " + ShellQuote(firmware) + " -B " + ShellQuote(out);
  if (!fs::exists(fs::path(out) / "CMakeCache.txt")) {
    configure += OnPath("ninja") ? " -G Ninja" : " -G " + ShellQuote("Unix Makefiles");
  }
  configure += " -DMCUNET_APP=" + o.app + " -DMCUNET_KERNELS=" + o.kernels;
  configure += " -DMCUNET_MODEL_DIR=" + ShellQuote(m.dir) + " -DMCUNET_TARGET=" + t.name +
               " -DMCUNET_ENGINE_DIR=" + ShellQuote(engine) +
               " -DMCUNET_INPUT=" + ShellQuote(o.input_path.empty() ? "" : fs::absolute(o.input_path).string()) +
               " -DMCUNET_STACK_BYTES=" + std::to_string(o.stack_bytes) +
               " -DMCUNET_OPT_FLAGS=" + ShellQuote(o.opt_flags) + " -DMCUNET_CONSOLE=" + ShellQuote(o.console);
  RunResult r = Run(configure);
  if (r.status != 0) ThrowBuildFailure("configuring the firmware (" + configure + ")", r.output, m, t, o);
  r = Run("cmake --build " + ShellQuote(out));
  if (r.status != 0) ThrowBuildFailure("building the firmware", r.output, m, t, o);

  BuildResult b;
  b.elf = (fs::path(out) / ("mcunet_" + t.name + ".elf")).string();
  if (!fs::exists(b.elf)) throw Error("firmware: the build did not produce '" + b.elf + "'");
  b.memory_usage = MemoryUsage(r.output);
  const std::string size_tool = OnPath("arm-none-eabi-size") ? "arm-none-eabi-size" : "size";
  const RunResult s = Run(size_tool + " " + ShellQuote(b.elf));
  b.size_report = s.output;
  return b;
}

std::string DefaultOut(const ModelInfo& m, const Target& t) {
  return (fs::path(m.dir) / ("firmware-" + t.name)).string();
}

void AddBuildOptions(CLI::App* cmd, BuildOptions& o) {
  cmd->add_option("--model", o.model_dir, "Directory with model.h / model.c from `mcunet codegen`");
  cmd->add_option("--out", o.out_dir, "Build directory (default: <model dir>/firmware-<board>)");
  cmd->add_option("--stack-bytes", o.stack_bytes, "Main stack reserved in SRAM")->capture_default_str();
  cmd->add_option("--opt", o.opt_flags, "Optimisation flags of the firmware build")->capture_default_str();
  cmd->add_option("--kernels", o.kernels,
                  "dsp: Armv7E-M SIMD kernels (SMLAD, SXTB16, ...); portable: the same C as the host")
      ->check(CLI::IsMember({"dsp", "portable"}))
      ->capture_default_str();
}

void RequireModel(const BuildOptions& o) {
  if (o.model_dir.empty()) {
    throw InvalidInput("firmware: --model DIR is required (a directory made by `mcunet codegen`)");
  }
}

void RegisterFirmwareVerb(CLI::App& app) {
  auto o = std::make_shared<BuildOptions>();
  auto* cmd = app.add_subcommand("firmware",
                                 "Build the firmware ELF of a generated model for a board "
                                 "(arm-none-eabi-gcc; a model that does not fit fails the link)");
  AddBuildOptions(cmd, *o);
  cmd->add_option("--board", o->board, "stm32f412, stm32f746, stm32f765, stm32h743, qemu-m7 or qemu-m4")->required();
  cmd->add_option("--input", o->input_path,
                  "Raw int8 input linked into the firmware (default: a fixed "
                  "pseudo-random input made by the firmware)");
  cmd->add_option("--console", o->console, "semihost (QEMU, debugger) or itm (SWO on a real board)")
      ->check(CLI::IsMember({"semihost", "itm"}))
      ->capture_default_str();
  cmd->callback([o] {
    const Target t = FindTarget(o->board);
    RequireModel(*o);
    const ModelInfo m = ReadModelDir(o->model_dir);
    if (!o->input_path.empty()) ReadInput(o->input_path, m);
    BuildOptions opts = *o;
    if (opts.out_dir.empty()) opts.out_dir = DefaultOut(m, t);
    const BuildResult b = BuildFirmware(opts, t, m);
    std::printf("target           %s\n", t.name.c_str());
    std::printf("model            %s (arena %lld B + scratch %lld B)\n", m.dir.c_str(),
                static_cast<long long>(m.Get("ARENA_BYTES")), static_cast<long long>(m.Get("SCRATCH_BYTES")));
    std::printf("elf              %s\n", b.elf.c_str());
    std::printf("%s%s", b.memory_usage.c_str(), b.size_report.c_str());
  });
}

// ---- QEMU -------------------------------------------------------------------------------------

struct QemuOptions {
  BuildOptions build;
  std::optional<uint64_t> random_seed;
  int timeout_s = 120;
  bool json = false;
  bool count_instructions = false;
  bool selftest = false;
};

// ---- Instruction counts (tools/qemu_plugin/insn_count.c) --------------------------------

std::string QemuPluginPath() {
#if defined(MCUNET_QEMU_PLUGIN)
  const char* built_in = MCUNET_QEMU_PLUGIN;
#else
  const char* built_in = "";
#endif
  const std::string path = SourceDirFromEnvOr("MCUNET_QEMU_PLUGIN", built_in);
  if (path.empty() || !fs::exists(path)) {
    throw InvalidInput("qemu: the instruction-count plugin '" + path +
                       "' does not exist; build the target mcunet_qemu_insn_count (tools/qemu_plugin) or set "
                       "MCUNET_QEMU_PLUGIN to its .so");
  }
  return path;
}

// The kernel kind a function of the firmware belongs to (by name).
std::string KernelKind(const std::string& f) {
  auto has = [&f](const char* s) { return f.find(s) != std::string::npos; };
  if (has("pointwise")) return "pointwise_conv";
  if (has("depthwise") || f.rfind("dw_", 0) == 0) return "depthwise_conv";
  if (has("conv2d") || has("im2col")) return "conv2d";
  if (has("add_s8")) return "add";
  if (has("mean") || has("avg_pool")) return "pool";
  if (has("fully_connected")) return "fully_connected";
  if (has("memcpy") || has("memset") || has("memmove")) return "memcpy_memset";
  return "other";
}

// Writes "START END NAME" for every function of the ELF (arm-none-eabi-nm -S)
// plus the @begin / @end markers of firmware/main.c.
void WriteFunctionRanges(const std::string& elf, const std::string& path) {
  RequireTool("arm-none-eabi-nm", "binutils-arm-none-eabi");
  const RunResult r = Run("arm-none-eabi-nm -S --defined-only " + ShellQuote(elf));
  if (r.status != 0) throw Error("qemu: arm-none-eabi-nm failed on '" + elf + "':\n" + r.output);
  std::ofstream f(path);
  std::istringstream ss(r.output);
  std::string line;
  bool begin = false, end = false;
  while (std::getline(ss, line)) {
    std::istringstream ls(line);
    std::string addr, size, type, name;
    if (!(ls >> addr >> size >> type >> name)) continue;
    if (type != "t" && type != "T" && type != "W" && type != "w") continue;
    const uint64_t a = std::stoull(addr, nullptr, 16) & ~uint64_t{1};
    const uint64_t n = std::stoull(size, nullptr, 16);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%llx %llx ", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(a + n));
    f << buf << name << "\n";
    if (name == "fw_count_begin") {
      std::snprintf(buf, sizeof buf, "%llx %llx ", static_cast<unsigned long long>(a), static_cast<unsigned long long>(a));
      f << buf << "@begin\n";
      begin = true;
    }
    if (name == "fw_count_end") {
      std::snprintf(buf, sizeof buf, "%llx %llx ", static_cast<unsigned long long>(a), static_cast<unsigned long long>(a));
      f << buf << "@end\n";
      end = true;
    }
  }
  if (!begin || !end) {
    throw Error("qemu: '" + elf + "' has no fw_count_begin / fw_count_end markers (firmware/main.c of another version)");
  }
}

// The plugin's report as JSON: instructions per inference in total, per
// kernel kind and per function.
nlohmann::json ReadInstructionCounts(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error("qemu: the instruction-count plugin wrote no report '" + path + "'");
  std::map<std::string, uint64_t> raw;
  std::string name;
  uint64_t v;
  while (f >> name >> v) raw[name] = v;
  const uint64_t windows = raw.count("windows") ? raw["windows"] : 0;
  if (windows == 0) throw Error("qemu: the instruction-count plugin saw no mcunet_invoke");
  nlohmann::json j;
  j["inferences"] = windows;
  j["per_inference"] = raw["total"] / windows;
  std::map<std::string, uint64_t> kinds;
  nlohmann::json funcs = nlohmann::json::object();
  for (const auto& [n, c] : raw) {
    if (n == "windows" || n == "total") continue;
    kinds[KernelKind(n)] += c / windows;
    funcs[n] = c / windows;
  }
  j["per_kind"] = kinds;
  j["per_function"] = funcs;
  return j;
}

// "key value..." lines of firmware/main.c as JSON: "output" -> array of
// ints, integers -> numbers, the rest -> strings.
nlohmann::json ParseFirmwareOutput(const std::string& text) {
  nlohmann::json j = nlohmann::json::object();
  static const std::regex integer(R"(-?[0-9]+)");
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    const size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0) continue;
    const std::string key = line.substr(0, sp);
    const std::string value = line.substr(sp + 1);
    if (!std::all_of(key.begin(), key.end(), [](char c) {
          return std::islower(static_cast<unsigned char>(c)) || c == '_' || std::isdigit(static_cast<unsigned char>(c));
        })) {
      continue;
    }
    if (key == "output") {
      std::vector<int> v;
      std::istringstream vs(value);
      int x;
      while (vs >> x) v.push_back(x);
      j[key] = v;
    } else if (std::regex_match(value, integer)) {
      j[key] = std::stoll(value);
    } else {
      j[key] = value;
    }
  }
  return j;
}

void RegisterQemuVerb(CLI::App& app) {
  auto o = std::make_shared<QemuOptions>();
  auto* cmd = app.add_subcommand("qemu",
                                 "Build the firmware of a generated model for a QEMU machine, run it, "
                                 "print what it measured and exit with its status");
  AddBuildOptions(cmd, o->build);
  cmd->add_option("--board", o->build.board, "qemu-m7 (mps2-an500, Cortex-M7) or qemu-m4 (mps2-an386, Cortex-M4)")
      ->required();
  auto* input = cmd->add_option("--input", o->build.input_path, "Raw int8 bytes of the input tensor (NHWC)");
  auto* seed = cmd->add_option("--random-seed", o->random_seed,
                               "Run on the random input `mcunet run-host --random-seed S` uses (default: 0)");
  input->excludes(seed);
  seed->excludes(input);
  cmd->add_option("--timeout", o->timeout_s, "Seconds before QEMU is stopped")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_flag("--selftest", o->selftest,
                "Run the kernel self-test instead of a model: the firmware's kernels against the TFLite "
                "reference kernels, byte for byte (no --model)");
  cmd->add_flag("--count-instructions", o->count_instructions,
                "Count the guest instructions of each inference (QEMU plugin), in total, per kernel kind "
                "and per function");
  cmd->callback([o] {
    const Target t = FindTarget(o->build.board);
    if (t.qemu_machine.empty()) {
      throw InvalidInput("qemu: '" + o->build.board +
                         "' is a real board; QEMU runs qemu-m7 (Cortex-M7) or qemu-m4 "
                         "(Cortex-M4). Build for the board with `mcunet firmware --board " +
                         t.name + "`");
    }
    RequireTool("qemu-system-arm", "qemu-system-arm");
    BuildOptions opts = o->build;
    ModelInfo m;
    if (o->selftest) {
      if (!opts.model_dir.empty() || !opts.input_path.empty()) {
        throw InvalidInput("qemu: --selftest runs no model; drop --model / --input");
      }
      if (o->count_instructions) throw InvalidInput("qemu: --count-instructions counts a model's inferences, not --selftest");
      opts.app = "selftest";
      if (opts.out_dir.empty()) {
        opts.out_dir = (fs::temp_directory_path() / ("mcunet-selftest-" + t.name + "-" + opts.kernels)).string();
      }
    } else {
      RequireModel(opts);
      m = ReadModelDir(opts.model_dir);
      if (opts.out_dir.empty()) opts.out_dir = DefaultOut(m, t);
    }
    std::string input_note;
    if (o->selftest) {
      input_note = "none (kernel self-test)";
    } else if (!opts.input_path.empty()) {
      ReadInput(opts.input_path, m);
      input_note = opts.input_path;
    } else {
      // The same bytes as `mcunet run-host --random-seed S`.
      const uint64_t s = o->random_seed.value_or(0);
      Rng rng(s);
      std::string bytes(static_cast<size_t>(m.Get("INPUT_BYTES")), '\0');
      for (char& c : bytes) c = static_cast<char>(rng.Next() & 0xff);
      std::error_code ec;
      fs::create_directories(opts.out_dir, ec);
      opts.input_path = (fs::path(opts.out_dir) / "input.bin").string();
      std::ofstream f(opts.input_path, std::ios::binary);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      f.close();
      if (!f) throw Error("qemu: cannot write '" + opts.input_path + "'");
      input_note = "random, seed " + std::to_string(s);
    }
    const std::string plugin = o->count_instructions ? QemuPluginPath() : std::string();
    const BuildResult b = BuildFirmware(opts, t, m);
    std::string cmdline = "timeout -k 5 " + std::to_string(o->timeout_s) + " qemu-system-arm -M " + t.qemu_machine +
                          " -cpu " + t.qemu_cpu +
                          " -display none -monitor none -serial null"
                          " -semihosting-config enable=on,target=native -kernel " +
                          ShellQuote(b.elf);
    const std::string ranges = (fs::path(opts.out_dir) / "functions.txt").string();
    const std::string counts = (fs::path(opts.out_dir) / "insn_count.txt").string();
    if (o->count_instructions) {
      WriteFunctionRanges(b.elf, ranges);
      std::error_code ec;
      fs::remove(counts, ec);
      // QEMU splits -plugin arguments at commas.
      if (plugin.find(',') != std::string::npos || ranges.find(',') != std::string::npos) {
        throw InvalidInput("qemu: --count-instructions needs paths without ',' (" + plugin + ", " + ranges + ")");
      }
      cmdline += " -plugin " + ShellQuote(plugin + ",ranges=" + ranges + ",out=" + counts);
    }
    const RunResult r = Run(cmdline);
    if (r.status == 124 || r.status == 137) {
      throw Error("qemu: the firmware did not finish within " + std::to_string(o->timeout_s) +
                  " s (raise --timeout)\n" + r.output);
    }
    if (r.status < 0) throw Error("qemu: qemu-system-arm did not exit normally\n" + r.output);
    nlohmann::json j = ParseFirmwareOutput(r.output);
    if (!j.contains("status")) {
      // The firmware faulted before its report (startup.c prints a FAULT
      // line), or QEMU itself failed.
      static const std::regex fault(R"(mcunet firmware: FAULT[^\n]*)");
      std::smatch fm;
      if (std::regex_search(r.output, fm, fault)) {
        throw Error("qemu: the firmware faulted (exit status " + std::to_string(r.status) +
                    "): " + fm[0].str().substr(std::string("mcunet firmware: ").size()));
      }
      throw Error("qemu: no report from the firmware (exit status " + std::to_string(r.status) + "):\n" + r.output);
    }
    nlohmann::json insns;
    if (o->count_instructions) insns = ReadInstructionCounts(counts);
    if (o->json) {
      if (o->count_instructions) j["instructions"] = insns;
      j["elf"] = b.elf;
      j["machine"] = t.qemu_machine;
      j["input"] = input_note;
      j["exit_status"] = r.status;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("elf %s\nmachine %s\ninput %s\n%s", b.elf.c_str(), t.qemu_machine.c_str(), input_note.c_str(),
                  r.output.c_str());
      if (o->count_instructions) {
        std::printf("instructions_per_inference %llu\n", insns["per_inference"].get<unsigned long long>());
        for (const auto& [kind, c] : insns["per_kind"].items()) {
          std::printf("instructions_%s %llu\n", kind.c_str(), c.get<unsigned long long>());
        }
      }
    }
    ExitStatus() = r.status;
  });
}

}  // namespace

void RegisterFirmware(CLI::App& app) {
  RegisterFirmwareVerb(app);
  RegisterQemuVerb(app);
}

}  // namespace mcunet::cli
