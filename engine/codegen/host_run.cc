// RunOnHost: compiles generated code with the host C compiler and runs it.
// Used by `mcunet run-host`, the tests and the host benchmark.
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "mcunet/codegen.h"
#include "mcunet/error.h"

namespace mcunet {

namespace {

namespace fs = std::filesystem;

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string ReadText(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& p, const void* data, size_t size) {
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  f.close();
  if (!f) throw Error("run-host: cannot write '" + p.string() + "'");
}

// Runs `cmd` through the shell; returns its exit status (-1 if it did not
// exit normally).
int System(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// The harness: reads inputs back to back from argv[1], writes the outputs to
// argv[2]; with argv[3] = N > 0 it then times N invocations on the last
// input and prints "ns_per_invoke <value>".
std::string HarnessMain(const std::string& prefix, const std::string& header) {
  std::string P;
  for (char c : prefix) P += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string s;
  s += "#define _POSIX_C_SOURCE 199309L\n#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n\n";
  s += "#include \"" + header + "\"\n\n";
  s += "static int8_t in_buf[" + P + "_INPUT_BYTES];\nstatic int8_t out_buf[" + P + "_OUTPUT_BYTES];\n\n";
  s += "int main(int argc, char** argv) {\n";
  s += "  FILE* fi;\n  FILE* fo;\n  long repeats = 0, count = 0;\n";
  s += "  if (argc < 3) return 2;\n  if (argc > 3) repeats = atol(argv[3]);\n";
  s += "  fi = fopen(argv[1], \"rb\");\n  fo = fopen(argv[2], \"wb\");\n  if (!fi || !fo) return 2;\n";
  s += "  while (fread(in_buf, 1, sizeof in_buf, fi) == sizeof in_buf) {\n";
  s += "    const int rc = " + prefix + "_invoke(in_buf, out_buf);\n";
  s += "    if (rc != 0) {\n      fprintf(stderr, \"" + prefix +
       "_invoke returned %d\\n\", rc);\n      return 3;\n    }\n";
  s += "    if (fwrite(out_buf, 1, sizeof out_buf, fo) != sizeof out_buf) return 2;\n    ++count;\n  }\n";
  s += "  fclose(fi);\n  if (fclose(fo) != 0) return 2;\n";
  s += "  if (repeats > 0 && count > 0) {\n";
  s += "    struct timespec t0, t1;\n    long i;\n";
  s += "    clock_gettime(CLOCK_MONOTONIC, &t0);\n";
  s += "    for (i = 0; i < repeats; ++i) " + prefix + "_invoke(in_buf, out_buf);\n";
  s += "    clock_gettime(CLOCK_MONOTONIC, &t1);\n";
  s += "    printf(\"ns_per_invoke %.1f\\n\", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - "
       "t0.tv_nsec)) / "
       "(double)repeats);\n";
  s += "  }\n  return 0;\n}\n";
  return s;
}

}  // namespace

HostRunResult RunOnHost(const GeneratedCode& code, std::span<const int8_t> inputs, const HostRunOptions& options) {
  if (code.input_bytes <= 0 || inputs.empty() || inputs.size() % static_cast<size_t>(code.input_bytes) != 0) {
    throw InvalidInput("run-host: got " + std::to_string(inputs.size()) +
                       " input bytes, expected a whole number of "
                       "inputs of " +
                       std::to_string(code.input_bytes) + " bytes");
  }
  const fs::path runtime = options.runtime_dir;
  if (options.runtime_dir.empty() || !fs::exists(runtime / "mcunet_kernels.h")) {
    throw InvalidInput("run-host: runtime directory '" + options.runtime_dir +
                       "' does not hold mcunet_kernels.h (give engine/runtime of the mcunet sources)");
  }
  std::string compiler = options.compiler;
  if (compiler.empty()) {
    const char* cc = std::getenv("CC");
    compiler = cc && *cc ? cc : "cc";
  }

  // Work directory: the caller's, or a fresh temporary one.
  fs::path work;
  bool remove_work = false;
  if (options.work_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "mcunet-run-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw Error("run-host: cannot create a temporary directory");
    work = tmpl;
    remove_work = true;
  } else {
    work = options.work_dir;
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) throw InvalidInput("run-host: cannot create '" + work.string() + "': " + ec.message());
  }
  struct Cleanup {
    fs::path dir;
    bool active;
    ~Cleanup() {
      std::error_code ec;
      if (active) fs::remove_all(dir, ec);
    }
  } cleanup{work, remove_work};

  WriteGeneratedCode(code, work.string());
  const std::string main_c = HarnessMain(code.prefix, code.header_name);
  WriteBytes(work / "main.c", main_c.data(), main_c.size());
  WriteBytes(work / "input.bin", inputs.data(), inputs.size());

  const fs::path exe = work / "model_run";
  std::string cmd = ShellQuote(compiler) + " " + options.cflags + " -I" + ShellQuote(work.string()) + " -I" +
                    ShellQuote(runtime.string()) + " " + ShellQuote((work / code.source_name).string()) + " " +
                    ShellQuote((work / "main.c").string());
  for (const std::string& src : code.kernel_sources) {
    cmd += ' ';
    cmd += ShellQuote((runtime / src).string());
  }
  cmd += " -o " + ShellQuote(exe.string()) + " > " + ShellQuote((work / "build.log").string()) + " 2>&1";
  if (System(cmd) != 0) {
    throw Error("run-host: compiling the generated code failed:\n  " + cmd + "\n" + ReadText(work / "build.log"));
  }

  std::string run = ShellQuote(exe.string()) + " " + ShellQuote((work / "input.bin").string()) + " " +
                    ShellQuote((work / "output.bin").string());
  if (options.time_repeats > 0) run += " " + std::to_string(options.time_repeats);
  run += " > " + ShellQuote((work / "run.log").string()) + " 2>&1";
  const int status = System(run);
  const std::string log = ReadText(work / "run.log");
  if (status != 0) {
    throw Error("run-host: the generated program exited with status " + std::to_string(status) + ":\n" + log);
  }

  HostRunResult r;
  const std::string out = ReadText(work / "output.bin");
  const size_t count = inputs.size() / static_cast<size_t>(code.input_bytes);
  if (out.size() != count * static_cast<size_t>(code.output_bytes)) {
    throw Error("run-host: the generated program wrote " + std::to_string(out.size()) + " bytes, expected " +
                std::to_string(count * code.output_bytes));
  }
  r.outputs.assign(out.begin(), out.end());
  if (options.time_repeats > 0) {
    std::istringstream in(log);
    std::string key;
    while (in >> key) {
      if (key == "ns_per_invoke") in >> r.ns_per_invoke;
    }
  }
  return r;
}

}  // namespace mcunet
