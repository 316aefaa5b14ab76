// TinyEngine's code generator: a planned int8 graph becomes C code.
//
// GenerateCode takes the CostReport of the "tinyengine" planner (the folded
// graph it planned and the MemoryPlan it made; contract 1 of DESIGN.md: the
// generator never re-plans) and writes
//
//   model.h  #defines for the input/output sizes and quantisation, the arena,
//            scratch and peak SRAM bytes; <prefix>_invoke() and accessors.
//   model.c  every weight, bias and per-channel multiplier/shift as a `const`
//            array (Flash); one `static int8_t <prefix>_arena[N]` whose size N
//            and every tensor offset are the plan's literals; one static
//            scratch buffer of plan.scratch_bytes (4-byte aligned, shared by
//            all ops, paper Eq. 1); and a straight-line
//            `int <prefix>_invoke(const int8_t* in, int8_t* out)` that copies
//            the input into its arena slot, calls per op exactly the
//            specialised kernel of engine/runtime/mcunet_kernels.h the plan
//            asks for (in-place depthwise k3/5/7 s1/2, pointwise forward or
//            reverse, ...) with literal parameters, and copies the output out.
//
// The emitted code is C99 that also compiles as C++, with -Wall -Wextra
// -Werror: no heap, no libc beyond memcpy. It references only the kernels
// the model uses (GeneratedCode::kernels); compile it with the runtime
// sources listed in GeneratedCode::kernel_sources (and -ffunction-sections
// -Wl,--gc-sections on the firmware so that the linker drops the rest).
//
// Requantisation parameters are derived from the tensors' float scales
// exactly as TF-Lite Micro's Prepare() does (mcunet/quantize_multiplier.h),
// so the generated code is bit-exact with the TFLite int8 reference kernels.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mcunet/board.h"
#include "mcunet/cost_model.h"

namespace mcunet {

struct CodegenOptions {
  // C identifier prefix of the public symbols: <prefix>_invoke, <prefix>_input,
  // <prefix>_output, and the macros <PREFIX>_ARENA_BYTES, ... Lets several
  // models live in one firmware.
  std::string prefix = "mcunet";
  // Base name of the files (model.h / model.c).
  std::string file_stem = "model";
  // Values per line in the emitted constant arrays.
  int values_per_line = 20;
  // Baseline mode: call the plain mcunet_ref_* kernels (kernels_ref.c), every
  // activation tensor in its own static buffer, no memory plan and no
  // scratch (ARENA_BYTES is then the sum of the buffers). For host
  // benchmarks ("generated code vs plain reference kernels") and debugging;
  // not for deployment.
  bool reference_kernels = false;
};

struct GeneratedCode {
  std::string header_name;  // "model.h"
  std::string source_name;  // "model.c"
  std::string header;       // contents of model.h
  std::string source;       // contents of model.c
  std::string prefix;
  // Runtime sources (file names in engine/runtime) model.c must be linked
  // with, e.g. {"kernels_opt.c"}; "kernels_ref.c" only when a layer has no
  // optimised kernel (depthwise with a channel multiplier).
  std::vector<std::string> kernel_sources;
  // The runtime functions model.c calls, sorted.
  std::vector<std::string> kernels;
  // Straight from the plan (reference_kernels: the sum of the buffers, 0).
  int64_t arena_bytes = 0;
  int64_t scratch_bytes = 0;
  int64_t peak_sram_bytes = 0;  // arena_bytes + scratch_bytes
  int64_t input_bytes = 0;
  int64_t output_bytes = 0;
  // Bytes of the constant arrays model.c defines (weights, biases,
  // multipliers, shifts).
  int64_t const_bytes = 0;
};

// Generates model.h / model.c for `report`, which must come from the
// "tinyengine" planner (EvaluateCost(graph) or CostEvaluator("tinyengine")),
// for a graph whose constant tensors hold data and whose int8 tensors hold
// quantisation parameters (a .tflite, or a quantised model). Throws
// InvalidInput if the model does not fit `board` (saying by how much, as
// mcunet::Fits does), if weights or quantisation parameters are missing, or
// if the report was made by another planner; Unsupported naming the op and
// its index for an op the int8 runtime has no kernel for (e.g. SOFTMAX).
GeneratedCode GenerateCode(const CostReport& report, const Board& board, const CodegenOptions& options = {});
// Same without the board check (host runs).
GeneratedCode GenerateCode(const CostReport& report, const CodegenOptions& options = {});

// Writes code.header and code.source into `dir` (created if needed), plus
// "kernels.txt" listing the runtime sources to compile with them. Returns the
// paths written.
std::vector<std::string> WriteGeneratedCode(const GeneratedCode& code, const std::string& dir);

// ---- Running generated code on the host ------------------------------------

struct HostRunOptions {
  // engine/runtime of the mcunet sources (mcunet_kernels.h, kernels_*.c).
  std::string runtime_dir;
  // C compiler; "" means $CC, else "cc" (found on PATH at run time).
  std::string compiler;
  // Flags for every source compiled (model.c, the runtime, the harness main).
  std::string cflags = "-std=c99 -O2";
  // Where to write the sources and the executable; "" means a fresh
  // directory under the system temp dir, removed afterwards.
  std::string work_dir;
  // If > 0: time this many invocations on the last input and report the mean
  // in HostRunResult::ns_per_invoke.
  int time_repeats = 0;
};

struct HostRunResult {
  std::vector<int8_t> outputs;  // count * output_bytes, one output per input
  double ns_per_invoke = 0;     // when HostRunOptions::time_repeats > 0
};

// Compiles `code` with the host C compiler together with its runtime sources
// and a small harness main, runs it on `inputs` (a whole number of inputs of
// code.input_bytes each, back to back) and returns the outputs. Throws
// InvalidInput on a bad input size or runtime directory, Error with the
// compiler's log if compiling fails or with the exit status if the run does.
HostRunResult RunOnHost(const GeneratedCode& code, std::span<const int8_t> inputs, const HostRunOptions& options);

}  // namespace mcunet
