// The code generator: CostReport (folded graph + tinyengine MemoryPlan) ->
// model.h / model.c. See include/mcunet/codegen.h for what is emitted and
// include/mcunet/passes.h for the overlap contract the kernel calls follow.
#include "mcunet/codegen.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "mcunet/error.h"
#include "mcunet/passes.h"
#include "mcunet/quantize_multiplier.h"

namespace mcunet {

namespace {

std::string Str(int64_t v) { return std::to_string(v); }

// A float as a C literal that reads back to the same float.
std::string FloatLiteral(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s + "f";
}

// An int32 as a C literal (INT32_MIN is not a literal in C).
std::string IntLiteral(int64_t v) {
  if (v == INT32_MIN) return "(-2147483647 - 1)";
  return Str(v);
}

// Text safe inside a C comment on one line (model names come from files).
std::string CommentSafe(std::string s) {
  for (size_t i = 0; (i = s.find("*/", i)) != std::string::npos;) s.replace(i, 2, "* /");
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool IsCIdentifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Reads element i of a constant int32/int64 tensor.
int64_t ConstInt(const Tensor& t, int64_t i) {
  if (t.dtype == DType::kInt32) {
    int32_t v;
    std::memcpy(&v, t.data.data() + 4 * i, 4);
    return v;
  }
  int64_t v;
  std::memcpy(&v, t.data.data() + 8 * i, 8);
  return v;
}

// Conv / depthwise parameters in the field order of mcunet_conv_params.
struct ConvFields {
  int64_t in_h, in_w, in_c, out_h, out_w, out_c;
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_left, in_zp, out_zp, act_min, act_max;
};

class Emitter {
 public:
  Emitter(const CostReport& report, const CodegenOptions& options)
      : g_(report.graph),
        plan_(report.plan),
        opt_(options),
        ref_(options.reference_kernels),
        arena_(options.prefix + "_arena"),
        scratch_(options.prefix + "_scratch") {}

  GeneratedCode Run();

 private:
  // ---- Graph and plan access ----
  std::string Where(int k) const {
    const Op& op = g_.ops[k];
    std::string s = "op " + Str(k) + " (" + std::string(OpKindName(op.kind));
    if (op.source_index >= 0) s += ", .tflite operator #" + Str(op.source_index);
    return s + ")";
  }
  std::string TensorName(int32_t t) const {
    const Tensor& x = g_.tensors[t];
    return "tensor " + Str(t) + (x.name.empty() ? "" : " '" + x.name + "'") + " " + x.shape.ToString();
  }
  const Tensor& T(int32_t t) const { return g_.tensors[t]; }
  int64_t Offset(int32_t t) const {
    const BufferPlacement* b = plan_.FindTensor(t);
    if (b == nullptr) throw Error("codegen: the memory plan has no offset for " + TensorName(t));
    return b->offset;
  }
  // Where tensor `t` lives: its arena offset, or (reference mode) its own
  // static buffer.
  std::string Ptr(int32_t t) const {
    if (ref_) return "buffer_t" + Str(t);
    return arena_ + " + " + Str(Offset(t));
  }

  void RequireInt8Activation(int k, int32_t t, const char* role) const {
    const Tensor& x = T(t);
    if (x.dtype != DType::kInt8) {
      throw Unsupported("codegen: " + Where(k) + ": " + role + " " + TensorName(t) + " is " +
                        std::string(DTypeName(x.dtype)) + ", the runtime runs int8 only");
    }
    if (x.quant.scale.size() != 1 || x.quant.zero_point.size() != 1) {
      throw InvalidInput("codegen: " + Where(k) + ": " + role + " " + TensorName(t) +
                         (x.quant.empty()
                              ? " has no quantisation parameters"
                              : " must be quantised per tensor, has " + Str(x.quant.scale.size()) + " scales"));
    }
    if (x.quant.zero_point[0] < -128 || x.quant.zero_point[0] > 127) {
      throw InvalidInput("codegen: " + Where(k) + ": " + role + " " + TensorName(t) + " has zero point " +
                         Str(x.quant.zero_point[0]) + " outside [-128, 127]");
    }
  }
  float Scale(int32_t t) const { return T(t).quant.scale[0]; }
  int32_t Zp(int32_t t) const { return static_cast<int32_t>(T(t).quant.zero_point[0]); }

  // Constant data of `t` with `bytes` bytes, or an error naming the op.
  const std::vector<uint8_t>& ConstData(int k, int32_t t, DType dtype, const char* role) const {
    const Tensor& x = T(t);
    if (x.dtype != dtype) {
      throw Unsupported("codegen: " + Where(k) + ": " + role + " " + TensorName(t) + " is " +
                        std::string(DTypeName(x.dtype)) + ", expected " + std::string(DTypeName(dtype)));
    }
    if (!x.is_constant || x.data.size() != static_cast<size_t>(x.bytes())) {
      throw InvalidInput("codegen: " + Where(k) + ": " + role + " " + TensorName(t) + " has " + Str(x.data.size()) +
                         " bytes of data, expected " + Str(x.bytes()) +
                         " (a graph without weights cannot be compiled; quantise it or read a .tflite)");
    }
    return x.data;
  }

  // Per-output-channel weight scales (a per-tensor scale is repeated).
  std::vector<float> WeightScales(int k, int32_t t, int64_t channels) const {
    const Tensor& w = T(t);
    if (w.quant.empty()) throw InvalidInput("codegen: " + Where(k) + ": weights " + TensorName(t) + " have no scales");
    for (int64_t zp : w.quant.zero_point) {
      if (zp != 0) {
        throw Unsupported("codegen: " + Where(k) + ": weights " + TensorName(t) + " have zero point " + Str(zp) +
                          ", the int8 spec requires symmetric weights (0)");
      }
    }
    if (w.quant.scale.size() == 1) return std::vector<float>(channels, w.quant.scale[0]);
    if (static_cast<int64_t>(w.quant.scale.size()) != channels) {
      throw InvalidInput("codegen: " + Where(k) + ": weights " + TensorName(t) + " have " + Str(w.quant.scale.size()) +
                         " scales for " + Str(channels) + " output channels");
    }
    return w.quant.scale;
  }

  // ---- Emission helpers ----
  void UseKernel(const std::string& name, const char* source) {
    kernels_.insert(name);
    sources_.insert(source);
  }
  // The optimised kernel `name`, or in reference mode its mcunet_ref_*
  // counterpart `ref_name`; registers it and returns the name to call.
  std::string Kernel(const std::string& name, const std::string& ref_name) {
    if (ref_) {
      UseKernel(ref_name, "kernels_ref.c");
      return ref_name;
    }
    UseKernel(name, "kernels_opt.c");
    return name;
  }
  void EmitInt8Array(const std::string& name, const std::vector<uint8_t>& data);
  void EmitInt32Array(const std::string& name, const std::vector<int32_t>& v);
  // fold_zp != 0: a pointwise conv's bias with the input zero-point term
  // folded in (see EmitConvLike); `w` its [out_c][in_c] weights.
  std::string EmitBias(int k, const Op& op, int64_t channels, int64_t fold_zp = 0,
                       const std::vector<uint8_t>* w = nullptr);
  void EmitConvParams(const std::string& name, const ConvFields& f, const std::string& mult,
                      const std::string& shift);
  void Stmt(const std::string& s) { body_ += "  " + s + "\n"; }
  void RequireScratch(int k, int64_t bytes) const {
    if (!ref_ && bytes > plan_.scratch_bytes) {
      throw Error("codegen: " + Where(k) + " needs " + Str(bytes) + " B of scratch, the plan provides " +
                  Str(plan_.scratch_bytes) + " B");
    }
  }

  // ---- Checks of the plan against the overlap contract (passes.h) ----
  void CheckPlan() const;
  void CheckOpOverlap(int k) const;

  // ---- One emitter per op kind ----
  void EmitOp(int k);
  void EmitConvLike(int k);
  void EmitAdd(int k);
  void EmitMean(int k);
  void EmitAvgPool(int k);
  void EmitFullyConnected(int k);
  void EmitTranspose(int k);
  void EmitReshape(int k);

  std::string Header() const;
  std::string Source() const;

  const Graph& g_;
  const MemoryPlan& plan_;
  const CodegenOptions& opt_;
  const bool ref_;  // reference kernels, one buffer per tensor
  const std::string arena_;
  const std::string scratch_;
  std::string data_;  // constant arrays and parameter structs
  std::string body_;  // statements of <prefix>_invoke
  std::set<std::string> kernels_;
  std::set<std::string> sources_;
  bool uses_transpose_ = false;
  int64_t const_bytes_ = 0;
  int32_t input_ = -1, output_ = -1;
  std::vector<int32_t> ref_buffers_;  // reference mode: tensors with a buffer
  int64_t ref_bytes_ = 0;
  // What the code declares: the plan's figures, or the reference buffers.
  int64_t arena_bytes() const { return ref_ ? ref_bytes_ : plan_.arena_bytes; }
  int64_t scratch_bytes() const { return ref_ ? 0 : plan_.scratch_bytes; }
};

void Emitter::EmitInt8Array(const std::string& name, const std::vector<uint8_t>& data) {
  const int per_line = std::max(opt_.values_per_line, 1);
  data_ += "static const int8_t " + name + "[" + Str(data.size()) + "] = {";
  char buf[8];
  for (size_t i = 0; i < data.size(); ++i) {
    if (i % per_line == 0) data_ += "\n   ";
    std::snprintf(buf, sizeof buf, " %d,", static_cast<int>(static_cast<int8_t>(data[i])));
    data_ += buf;
  }
  data_ += "\n};\n";
  const_bytes_ += static_cast<int64_t>(data.size());
}

void Emitter::EmitInt32Array(const std::string& name, const std::vector<int32_t>& v) {
  const int per_line = std::max(opt_.values_per_line / 2, 1);
  data_ += "static const int32_t " + name + "[" + Str(v.size()) + "] = {";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % per_line == 0) data_ += "\n   ";
    data_ += ' ';
    data_ += IntLiteral(v[i]);
    data_ += ',';
  }
  data_ += "\n};\n";
  const_bytes_ += 4 * static_cast<int64_t>(v.size());
}

// Emits the int32 bias of a conv/FC; returns its name, or "NULL".
std::string Emitter::EmitBias(int k, const Op& op, int64_t channels, int64_t fold_zp,
                              const std::vector<uint8_t>* w) {
  if (op.inputs[2] < 0 && fold_zp == 0) return "NULL";
  std::vector<int32_t> bias(channels, 0);
  if (op.inputs[2] >= 0) {
    const std::vector<uint8_t>& raw = ConstData(k, op.inputs[2], DType::kInt32, "bias");
    if (static_cast<int64_t>(raw.size()) != 4 * channels) {
      throw InvalidInput("codegen: " + Where(k) + ": bias " + TensorName(op.inputs[2]) + " should hold " +
                         Str(channels) + " values");
    }
    std::memcpy(bias.data(), raw.data(), raw.size());
  }
  if (fold_zp != 0) {
    // bias + sum_i w_i (x_i - zp) = (bias - zp sum_i w_i) + sum_i w_i x_i in
    // int32 (modulo 2^32, as the kernels' accumulators): exact.
    const int64_t depth = static_cast<int64_t>(w->size()) / channels;
    for (int64_t c = 0; c < channels; ++c) {
      int64_t sum = 0;
      for (int64_t i = 0; i < depth; ++i) sum += static_cast<int8_t>((*w)[c * depth + i]);
      const uint32_t folded = static_cast<uint32_t>(bias[c]) - static_cast<uint32_t>(fold_zp * sum);
      bias[c] = static_cast<int32_t>(folded);
    }
  }
  const std::string name = "op" + Str(k) + "_bias";
  EmitInt32Array(name, bias);
  return name;
}

void Emitter::EmitConvParams(const std::string& name, const ConvFields& f, const std::string& mult,
                             const std::string& shift) {
  // mcunet_conv_params holds its shape fields as int16_t.
  for (const int64_t v :
       {f.in_h, f.in_w, f.in_c, f.out_h, f.out_w, f.out_c, f.kernel_h, f.kernel_w, f.stride_h, f.stride_w,
        f.dilation_h, f.dilation_w, f.pad_top, f.pad_left, f.in_zp, f.out_zp, f.act_min, f.act_max}) {
    if (v < -32768 || v > 32767) {
      throw Unsupported("codegen: " + name + ": a shape, padding or zero-point value " + Str(v) +
                        " does not fit mcunet_conv_params' int16 fields");
    }
  }
  data_ += "static const mcunet_conv_params " + name + " = {\n";
  data_ += "    " + Str(f.in_h) + ", " + Str(f.in_w) + ", " + Str(f.in_c) + ",  /* in h, w, c */\n";
  data_ += "    " + Str(f.out_h) + ", " + Str(f.out_w) + ", " + Str(f.out_c) + ",  /* out h, w, c */\n";
  data_ += "    " + Str(f.kernel_h) + ", " + Str(f.kernel_w) + ", " + Str(f.stride_h) + ", " + Str(f.stride_w) + ", " +
           Str(f.dilation_h) + ", " + Str(f.dilation_w) + ",  /* kernel, stride, dilation (h, w) */\n";
  data_ += "    " + Str(f.pad_top) + ", " + Str(f.pad_left) + ",  /* pad top, left */\n";
  data_ += "    " + Str(f.in_zp) + ", " + Str(f.out_zp) + ", " + Str(f.act_min) + ", " + Str(f.act_max) +
           ",  /* zero points in, out; activation min, max */\n";
  data_ += "    " + mult + ", 0, " + shift + "};  /* multiplier, shift (int32, unused), shift8 */\n";
}

// ---- Plan checks ---------------------------------------------------------------

void Emitter::CheckPlan() const {
  if (plan_.planner != "tinyengine") {
    throw InvalidInput(
        "codegen: the cost report was made by the '" + plan_.planner +
        "' planner; the generated code runs the 'tinyengine' plan (EvaluateCost(graph, \"tinyengine\"))");
  }
  if (plan_.ops.size() != g_.ops.size()) {
    throw InvalidInput("codegen: the plan has " + Str(plan_.ops.size()) + " op entries for a graph of " +
                       Str(g_.ops.size()) + " ops (plan and graph of different reports?)");
  }
  if (g_.ops.empty()) throw InvalidInput("codegen: graph '" + g_.name + "' has no ops");
  if (g_.inputs.size() != 1 || g_.outputs.size() != 1) {
    throw Unsupported("codegen: graph '" + g_.name + "' has " + Str(g_.inputs.size()) + " inputs and " +
                      Str(g_.outputs.size()) + " outputs; the generated code supports exactly one of each");
  }
  if (plan_.peak_sram_bytes != plan_.arena_bytes + plan_.scratch_bytes) {
    throw Error("codegen: the plan's peak " + Str(plan_.peak_sram_bytes) + " B is not arena " + Str(plan_.arena_bytes) +
                " B + scratch " + Str(plan_.scratch_bytes) + " B");
  }
  for (const BufferPlacement& b : plan_.buffers) {
    if (b.tensor < 0) continue;
    if (b.offset < 0 || b.offset + g_.tensors[b.tensor].bytes() > plan_.arena_bytes) {
      throw Error("codegen: the plan puts " + TensorName(b.tensor) + " at [" + Str(b.offset) + ", " +
                  Str(b.offset + g_.tensors[b.tensor].bytes()) + ") outside the arena of " + Str(plan_.arena_bytes) +
                  " B");
    }
  }
}

// The kernel calls are only safe if the plan's offsets satisfy the overlap
// contract (passes.h). The planner guarantees it; this re-checks it at the
// one place where a violation would corrupt memory.
void Emitter::CheckOpOverlap(int k) const {
  const Op& op = g_.ops[k];
  const OpPlan& p = plan_.ops[k];
  const int64_t out = Offset(op.output);
  const int64_t out_end = out + T(op.output).bytes();
  auto disjoint = [&](int32_t t) {
    const int64_t in = Offset(t);
    return in >= out_end || in + T(t).bytes() <= out;
  };
  auto fail = [&](const std::string& why) {
    throw Error("codegen: " + Where(k) + ": the plan (" + std::string(OverlapName(p.overlap)) +
                ") breaks the overlap contract: " + why);
  };
  const int n_data = op.kind == OpKind::kAdd ? 2 : 1;
  for (int i = 0; i < n_data; ++i) {
    const int32_t t = op.inputs[i];
    if (t < 0 || T(t).is_constant) continue;
    if (p.overlap != Overlap::kNone && t == p.overlap_input) continue;  // checked below
    if (!disjoint(t)) fail("output overlaps " + TensorName(t));
  }
  switch (p.overlap) {
    case Overlap::kNone:
      break;
    case Overlap::kInPlaceDepthwise:
      if (op.kind != OpKind::kDepthwiseConv2D || p.overlap_input != op.inputs[0] || Offset(op.inputs[0]) != out) {
        fail("in-place depthwise needs the output at its input's offset");
      }
      break;
    case Overlap::kPointwiseForward:
    case Overlap::kPointwiseReverse: {
      if (op.kind != OpKind::kPointwiseConv2D || p.overlap_input != op.inputs[0]) fail("not a 1x1 conv input");
      const Shape& is = T(op.inputs[0]).shape;
      const Shape& os = T(op.output).shape;
      const int64_t n = int64_t{is[1]} * is[2];
      if (!PointwiseOverlapSafe(p.overlap, Offset(op.inputs[0]), out, is[3], os[3], n)) {
        fail("offsets " + Str(Offset(op.inputs[0])) + " -> " + Str(out) + " are unsafe in this order");
      }
      break;
    }
    case Overlap::kElementwise:
      if ((op.kind != OpKind::kAdd && op.kind != OpKind::kReshape) || Offset(p.overlap_input) != out ||
          T(p.overlap_input).bytes() != T(op.output).bytes() ||
          (p.overlap_input != op.inputs[0] && (op.kind != OpKind::kAdd || p.overlap_input != op.inputs[1]))) {
        fail("element-wise overlap needs the output exactly on one input");
      }
      break;
  }
}

// ---- Ops -----------------------------------------------------------------------

void Emitter::EmitOp(int k) {
  const Op& op = g_.ops[k];
  const OpPlan& p = plan_.ops[k];
  if (!ref_) CheckOpOverlap(k);
  std::string comment = "/* " + Where(k) + " ";
  for (int i = 0; i < 3; ++i) {
    if (op.inputs[i] >= 0 && !T(op.inputs[i]).is_constant) comment += T(op.inputs[i]).shape.ToString() + " ";
  }
  comment += "-> " + T(op.output).shape.ToString();
  if (!ref_ && p.overlap != Overlap::kNone) comment += ", " + std::string(OverlapName(p.overlap));
  body_ += "  " + comment + " */\n";
  switch (op.kind) {
    case OpKind::kConv2D:
    case OpKind::kPointwiseConv2D:
    case OpKind::kDepthwiseConv2D:
      EmitConvLike(k);
      break;
    case OpKind::kAdd:
      EmitAdd(k);
      break;
    case OpKind::kMean:
      EmitMean(k);
      break;
    case OpKind::kAveragePool2D:
      EmitAvgPool(k);
      break;
    case OpKind::kFullyConnected:
      EmitFullyConnected(k);
      break;
    case OpKind::kTranspose:
      EmitTranspose(k);
      break;
    case OpKind::kReshape:
      EmitReshape(k);
      break;
    default:
      throw Unsupported("codegen: " + Where(k) +
                        " has no int8 kernel in the mcunet runtime (supported: CONV_2D, "
                        "DEPTHWISE_CONV_2D, ADD, MEAN, AVERAGE_POOL_2D, FULLY_CONNECTED, TRANSPOSE, RESHAPE; "
                        "QUANTIZE/TRANSPOSE/PAD in front and DEQUANTIZE at the end are folded)");
  }
}

void Emitter::EmitConvLike(int k) {
  const Op& op = g_.ops[k];
  const OpPlan& p = plan_.ops[k];
  const int32_t in = op.inputs[0], out = op.output;
  RequireInt8Activation(k, in, "input");
  RequireInt8Activation(k, out, "output");
  const Shape& is = T(in).shape;
  const Shape& os = T(out).shape;
  if (is.rank != 4 || os.rank != 4 || is[0] != 1 || os[0] != 1) {
    throw Unsupported("codegen: " + Where(k) + ": needs NHWC tensors with batch 1, got " + is.ToString() + " -> " +
                      os.ToString());
  }
  if (op.inputs[1] < 0) throw InvalidInput("codegen: " + Where(k) + " has no weights");
  const bool depthwise = op.kind == OpKind::kDepthwiseConv2D;
  const int64_t out_c = os[3];
  const std::vector<uint8_t>& w = ConstData(k, op.inputs[1], DType::kInt8, "weights");
  const int64_t expect_w =
      depthwise ? int64_t{op.kernel_h} * op.kernel_w * out_c : out_c * op.kernel_h * op.kernel_w * is[3];
  if (static_cast<int64_t>(w.size()) != expect_w) {
    throw InvalidInput("codegen: " + Where(k) + ": weights " + TensorName(op.inputs[1]) + " hold " + Str(w.size()) +
                       " values, expected " + Str(expect_w));
  }
  const std::string prefix = "op" + Str(k);
  EmitInt8Array(prefix + "_weights", w);
  // Pointwise convs (no padding) take the input zero-point term folded into
  // the bias and in_zp 0: no per-MAC offset work in the kernels.
  const bool fold = op.kind == OpKind::kPointwiseConv2D && !ref_;
  const int64_t in_zp = fold ? 0 : Zp(in);
  const std::string bias = EmitBias(k, op, out_c, fold ? Zp(in) : 0, &w);
  std::vector<int32_t> mult, shift;
  const std::vector<float> ws = WeightScales(k, op.inputs[1], out_c);
  QuantizeConvMultipliers(Scale(in), ws, Scale(out), &mult, &shift);
  EmitInt32Array(prefix + "_multiplier", mult);
  // Shifts are in [-31, 30]: one byte each (mcunet_conv_params::shift8).
  EmitInt8Array(prefix + "_shift", std::vector<uint8_t>(shift.begin(), shift.end()));
  const ActivationRange act = QuantizedActivationRange(op.activation, Scale(out), Zp(out));
  const ConvFields f{is[1],       is[2],       is[3],       os[1],       os[2],         os[3],
                     op.kernel_h, op.kernel_w, op.stride_h, op.stride_w, op.dilation_h, op.dilation_w,
                     op.pad_top,  op.pad_left, in_zp,       Zp(out),     act.min,       act.max};
  EmitConvParams(prefix + "_params", f, prefix + "_multiplier", prefix + "_shift");
  const std::string args = "&" + prefix + "_params, ";
  const std::string wb = prefix + "_weights, " + bias;

  if (ref_) {
    const std::string fn =
        depthwise ? Kernel("", "mcunet_ref_depthwise_conv2d_s8") : Kernel("", "mcunet_ref_conv2d_s8");
    Stmt(fn + "(" + args + Ptr(in) + ", " + wb + ", " + Ptr(out) + ");");
    return;
  }
  if (op.kind == OpKind::kConv2D) {
    RequireScratch(k, 2 * 2 * int64_t{op.kernel_h} * op.kernel_w * is[3]);
    UseKernel("mcunet_conv2d_s8", "kernels_opt.c");
    Stmt("mcunet_conv2d_s8(" + args + Ptr(in) + ", " + wb + ", " + Ptr(out) + ", (int16_t*)" + scratch_ + ");");
    return;
  }
  if (op.kind == OpKind::kPointwiseConv2D) {
    if (op.kernel_h != 1 || op.kernel_w != 1 || op.stride_h != 1 || op.stride_w != 1 || op.pad_top != 0 ||
        op.pad_left != 0 || is[1] != os[1] || is[2] != os[2]) {
      throw Error("codegen: " + Where(k) + " is marked 1x1 but is not a 1x1, stride 1, unpadded conv");
    }
    RequireScratch(k, 2 * 2 * int64_t{is[3]});  // two pixels widened to int16
    UseKernel("mcunet_pointwise_conv_s8", "kernels_opt.c");
    const char* order = p.overlap == Overlap::kPointwiseReverse ? "MCUNET_ORDER_REVERSE" : "MCUNET_ORDER_FORWARD";
    Stmt("mcunet_pointwise_conv_s8(" + args + Ptr(in) + ", " + wb + ", " + Ptr(out) + ", " + scratch_ + ", " + order +
         ");");
    return;
  }
  // Depthwise: the specialised kernel per kernel size and stride.
  const bool undilated = std::max(op.dilation_h, 1) == 1 && std::max(op.dilation_w, 1) == 1;
  const bool special = undilated && op.kernel_h == op.kernel_w && op.stride_h == op.stride_w &&
                       (op.kernel_h == 3 || op.kernel_h == 5 || op.kernel_h == 7) &&
                       (op.stride_h == 1 || op.stride_h == 2);
  const std::string variant = special ? "_k" + Str(op.kernel_h) + "s" + Str(op.stride_h) : "";
  if (os[3] != is[3]) {
    // Channel multiplier > 1: only the reference kernel handles it.
    if (p.overlap != Overlap::kNone) throw Error("codegen: " + Where(k) + ": depthwise with a multiplier in place");
    UseKernel("mcunet_ref_depthwise_conv2d_s8", "kernels_ref.c");
    Stmt("mcunet_ref_depthwise_conv2d_s8(" + args + Ptr(in) + ", " + wb + ", " + Ptr(out) + ");");
    return;
  }
  if (p.overlap == Overlap::kInPlaceDepthwise) {
    RequireScratch(k, int64_t{os[1]} * os[2]);
    const std::string fn = "mcunet_depthwise_conv_s8_inplace" + variant;
    UseKernel(fn, "kernels_opt.c");
    Stmt(fn + "(" + args + Ptr(out) + ", " + wb + ", " + scratch_ + ");");
  } else {
    const std::string fn = "mcunet_depthwise_conv_s8" + variant;
    UseKernel(fn, "kernels_opt.c");
    Stmt(fn + "(" + args + Ptr(in) + ", " + wb + ", " + Ptr(out) + ");");
  }
}

void Emitter::EmitAdd(int k) {
  const Op& op = g_.ops[k];
  const int32_t a = op.inputs[0], b = op.inputs[1], out = op.output;
  RequireInt8Activation(k, a, "input 1");
  RequireInt8Activation(k, b, "input 2");
  RequireInt8Activation(k, out, "output");
  if (T(a).shape.elements() != T(out).shape.elements() || T(b).shape.elements() != T(out).shape.elements()) {
    throw Unsupported("codegen: " + Where(k) + ": ADD with broadcasting (" + T(a).shape.ToString() + " + " +
                      T(b).shape.ToString() + ") is not supported");
  }
  const AddQuantization q = QuantizeAddParams(Scale(a), Scale(b), Scale(out));
  const ActivationRange act = QuantizedActivationRange(op.activation, Scale(out), Zp(out));
  const std::string name = "op" + Str(k) + "_params";
  data_ += "static const mcunet_add_params " + name + " = {\n";
  data_ += "    " + Str(T(out).shape.elements()) + ",  /* size */\n";
  data_ += "    " + Str(Zp(a)) + ", " + Str(Zp(b)) + ", " + Str(Zp(out)) + ",  /* zero points in1, in2, out */\n";
  data_ += "    " + Str(q.left_shift) + ",  /* left shift */\n";
  data_ += "    " + Str(q.input1.multiplier) + ", " + Str(q.input1.shift) + ", " + Str(q.input2.multiplier) + ", " +
           Str(q.input2.shift) + ", " + Str(q.output.multiplier) + ", " + Str(q.output.shift) +
           ",  /* multiplier, shift: in1, in2, out */\n";
  data_ += "    " + Str(act.min) + ", " + Str(act.max) + "};\n";
  Stmt(Kernel("mcunet_add_s8", "mcunet_ref_add_s8") + "(&" + name + ", " + Ptr(a) + ", " + Ptr(b) + ", " + Ptr(out) +
       ");");
}

// MEAN over any set of axes that is contiguous once size-1 axes are ignored
// (H, W of NHWC = global average pooling; or the trailing axes, as vww1's
// TRANSPOSE + MEAN + MEAN tail): the input is [outer, reduced, inner], and
// mcunet_mean_s8 reduces one [reduced, inner] block per call.
void Emitter::EmitMean(int k) {
  const Op& op = g_.ops[k];
  const int32_t in = op.inputs[0], out = op.output;
  RequireInt8Activation(k, in, "input");
  RequireInt8Activation(k, out, "output");
  const Shape& is = T(in).shape;
  bool reduce[4] = {false, false, false, false};
  if (op.inputs[1] < 0) {
    // No axis tensor (a lowered Arch): global average pooling over H, W.
    if (is.rank != 4) throw InvalidInput("codegen: " + Where(k) + ": MEAN without axes needs an NHWC input");
    reduce[1] = reduce[2] = true;
  } else {
    const Tensor& axes = T(op.inputs[1]);
    if ((axes.dtype != DType::kInt32 && axes.dtype != DType::kInt64) ||
        axes.data.size() != static_cast<size_t>(axes.bytes())) {
      throw InvalidInput("codegen: " + Where(k) + ": axis " + TensorName(op.inputs[1]) +
                         " must be constant int32/int64 data");
    }
    for (int64_t i = 0; i < axes.shape.elements(); ++i) {
      int64_t a = ConstInt(axes, i);
      if (a < 0) a += is.rank;
      if (a < 0 || a >= is.rank) {
        throw InvalidInput("codegen: " + Where(k) + ": axis " + Str(ConstInt(axes, i)) + " out of range for input " +
                           is.ToString());
      }
      reduce[a] = true;
    }
  }
  int64_t outer = 1, mid = 1, inner = 1;
  int first = -1, last = -1;
  for (int d = 0; d < is.rank; ++d) {
    if (reduce[d]) mid *= is[d];
    if (reduce[d] && is[d] > 1) {
      if (first < 0) first = d;
      last = d;
    }
  }
  for (int d = 0; d < is.rank; ++d) {
    if (reduce[d]) continue;
    if (first >= 0 && d > first && d < last && is[d] > 1) {
      throw Unsupported("codegen: " + Where(k) + ": MEAN over non-adjacent axes of " + is.ToString() +
                        " is not supported");
    }
    if (first < 0 || d < first) {
      outer *= is[d];
    } else {
      inner *= is[d];
    }
  }
  if (T(out).shape.elements() != outer * inner) {
    throw InvalidInput("codegen: " + Where(k) + ": output " + T(out).shape.ToString() + " does not match input " +
                       is.ToString() + " reduced");
  }
  const MeanQuantization q = QuantizeMeanParams(Scale(in), Zp(in), Scale(out), Zp(out), mid);
  // Global average pooling of NHWC reads best as H x W pixels of C channels.
  const bool hw = is.rank == 4 && outer == 1 && reduce[1] && reduce[2] && !reduce[3] && !reduce[0];
  const std::string name = "op" + Str(k) + "_params";
  data_ += "static const mcunet_mean_params " + name + " = {\n";
  data_ += "    " + Str(hw ? is[1] : 1) + ", " + Str(hw ? is[2] : mid) + ", " + Str(inner) + ",  /* in h, w, c */\n";
  data_ += "    " + Str(Zp(in)) + ", " + Str(Zp(out)) + ", " + Str(q.divide_only ? 1 : 0) +
           ",  /* zero points in, out; divide only */\n";
  data_ += "    " + Str(q.folded.multiplier) + ", " + Str(q.folded.shift) + "};\n";
  const std::string fn = Kernel("mcunet_mean_s8", "mcunet_ref_mean_s8");
  if (outer == 1) {
    Stmt(fn + "(&" + name + ", " + Ptr(in) + ", " + Ptr(out) + ");");
  } else {
    Stmt("{");
    Stmt("  int32_t i;");
    Stmt("  for (i = 0; i < " + Str(outer) + "; ++i) {");
    Stmt("    " + fn + "(&" + name + ", " + Ptr(in) + " + i * " + Str(mid * inner) + ", " + Ptr(out) + " + i * " +
         Str(inner) + ");");
    Stmt("  }");
    Stmt("}");
  }
}

void Emitter::EmitAvgPool(int k) {
  const Op& op = g_.ops[k];
  const int32_t in = op.inputs[0], out = op.output;
  RequireInt8Activation(k, in, "input");
  RequireInt8Activation(k, out, "output");
  const Shape& is = T(in).shape;
  const Shape& os = T(out).shape;
  if (is.rank != 4 || os.rank != 4 || is[0] != 1) {
    throw Unsupported("codegen: " + Where(k) + ": needs NHWC tensors with batch 1");
  }
  if (Scale(in) != Scale(out) || Zp(in) != Zp(out)) {
    throw InvalidInput("codegen: " + Where(k) +
                       ": AVERAGE_POOL_2D needs the same scale and zero point on input "
                       "and output (int8 spec)");
  }
  const ActivationRange act = QuantizedActivationRange(op.activation, Scale(out), Zp(out));
  const std::string name = "op" + Str(k) + "_params";
  data_ += "static const mcunet_pool_params " + name + " = {\n";
  data_ += "    " + Str(is[1]) + ", " + Str(is[2]) + ", " + Str(is[3]) + ", " + Str(os[1]) + ", " + Str(os[2]) +
           ",  /* in h, w, c; out h, w */\n";
  data_ += "    " + Str(op.kernel_h) + ", " + Str(op.kernel_w) + ", " + Str(op.stride_h) + ", " + Str(op.stride_w) +
           ", " + Str(op.pad_top) + ", " + Str(op.pad_left) + ",  /* kernel, stride, pad (h/top, w/left) */\n";
  data_ += "    " + Str(act.min) + ", " + Str(act.max) + "};\n";
  Stmt("if (" + Kernel("mcunet_avg_pool_s8", "mcunet_ref_avg_pool_s8") + "(&" + name + ", " + Ptr(in) + ", " +
       Ptr(out) + ") != 0) return -1;");
}

void Emitter::EmitFullyConnected(int k) {
  const Op& op = g_.ops[k];
  const int32_t in = op.inputs[0], out = op.output;
  RequireInt8Activation(k, in, "input");
  RequireInt8Activation(k, out, "output");
  if (op.inputs[1] < 0) throw InvalidInput("codegen: " + Where(k) + " has no weights");
  const Shape& ws = T(op.inputs[1]).shape;
  if (ws.rank != 2) throw InvalidInput("codegen: " + Where(k) + ": weights should be [out, in]");
  const int64_t out_features = ws[0], in_features = ws[1];
  const int64_t rows = T(in).shape.elements() / in_features;
  if (rows * in_features != T(in).shape.elements() || rows * out_features != T(out).shape.elements()) {
    throw InvalidInput("codegen: " + Where(k) + ": input " + T(in).shape.ToString() + " and output " +
                       T(out).shape.ToString() + " do not match weights " + ws.ToString());
  }
  const std::string prefix = "op" + Str(k);
  EmitInt8Array(prefix + "_weights", ConstData(k, op.inputs[1], DType::kInt8, "weights"));
  const std::string bias = EmitBias(k, op, out_features);
  const Tensor& w = T(op.inputs[1]);
  const bool per_channel = w.quant.scale.size() > 1;
  std::vector<int32_t> mult, shift;
  const std::vector<float> scales = WeightScales(k, op.inputs[1], per_channel ? out_features : 1);
  QuantizeConvMultipliers(Scale(in), scales, Scale(out), &mult, &shift);
  EmitInt32Array(prefix + "_multiplier", mult);
  EmitInt32Array(prefix + "_shift", shift);
  const ActivationRange act = QuantizedActivationRange(op.activation, Scale(out), Zp(out));
  const std::string name = prefix + "_params";
  data_ += "static const mcunet_fc_params " + name + " = {\n";
  data_ += "    " + Str(in_features) + ", " + Str(out_features) + ",  /* in, out features */\n";
  data_ += "    " + Str(Zp(in)) + ", " + Str(Zp(out)) + ", " + Str(act.min) + ", " + Str(act.max) +
           ",  /* zero points in, out; activation min, max */\n";
  data_ += "    " + Str(per_channel ? 1 : 0) + ", " + prefix + "_multiplier, " + prefix + "_shift};\n";
  const std::string fn = Kernel("mcunet_fully_connected_s8", "mcunet_ref_fully_connected_s8");
  const std::string wb = prefix + "_weights, " + bias;
  if (rows == 1) {
    Stmt(fn + "(&" + name + ", " + Ptr(in) + ", " + wb + ", " + Ptr(out) + ");");
  } else {
    Stmt("{");
    Stmt("  int32_t i;");
    Stmt("  for (i = 0; i < " + Str(rows) + "; ++i) {");
    Stmt("    " + fn + "(&" + name + ", " + Ptr(in) + " + i * " + Str(in_features) + ", " + wb + ", " + Ptr(out) +
         " + i * " + Str(out_features) + ");");
    Stmt("  }");
    Stmt("}");
  }
}

void Emitter::EmitTranspose(int k) {
  const Op& op = g_.ops[k];
  const int32_t in = op.inputs[0], out = op.output;
  RequireInt8Activation(k, in, "input");
  RequireInt8Activation(k, out, "output");
  const Shape& is = T(in).shape;
  const Shape& os = T(out).shape;
  if (op.inputs[1] < 0) throw InvalidInput("codegen: " + Where(k) + " has no permutation tensor");
  const Tensor& perm = T(op.inputs[1]);
  if ((perm.dtype != DType::kInt32 && perm.dtype != DType::kInt64) ||
      perm.data.size() != static_cast<size_t>(perm.bytes()) || perm.shape.elements() != is.rank || os.rank != is.rank) {
    throw InvalidInput("codegen: " + Where(k) + ": permutation " + TensorName(op.inputs[1]) +
                       " must be constant int32/int64 data of the input's rank " + Str(is.rank));
  }
  int64_t in_stride[4] = {1, 1, 1, 1};
  for (int d = is.rank - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * is[d + 1];
  // Output dims and the input stride of each, padded in front to rank 4.
  int64_t dims[4] = {1, 1, 1, 1}, strides[4] = {0, 0, 0, 0};
  bool seen[4] = {false, false, false, false};
  const int pad = 4 - is.rank;
  for (int d = 0; d < is.rank; ++d) {
    const int64_t p = ConstInt(perm, d);
    if (p < 0 || p >= is.rank || seen[p] || os[d] != is[static_cast<int>(p)]) {
      throw InvalidInput("codegen: " + Where(k) + ": permutation entry " + Str(p) + " does not map input " +
                         is.ToString() + " to output " + os.ToString());
    }
    seen[p] = true;
    dims[pad + d] = os[d];
    strides[pad + d] = in_stride[p];
  }
  uses_transpose_ = true;
  Stmt("transpose_s8(" + Ptr(in) + ", " + Ptr(out) + ", " + Str(dims[0]) + ", " + Str(dims[1]) + ", " + Str(dims[2]) +
       ", " + Str(dims[3]) + ", " + Str(strides[0]) + ", " + Str(strides[1]) + ", " + Str(strides[2]) + ", " +
       Str(strides[3]) + ");");
}

void Emitter::EmitReshape(int k) {
  const Op& op = g_.ops[k];
  const int32_t in = op.inputs[0], out = op.output;
  if (T(in).bytes() != T(out).bytes()) {
    throw InvalidInput("codegen: " + Where(k) + ": RESHAPE changes the size from " + Str(T(in).bytes()) + " to " +
                       Str(T(out).bytes()) + " bytes");
  }
  if (!ref_ && Offset(in) == Offset(out)) {
    Stmt("/* in place: nothing to do */");
  } else {
    Stmt("memcpy(" + Ptr(out) + ", " + Ptr(in) + ", " + Str(T(out).bytes()) + ");");
  }
}

// ---- Files ---------------------------------------------------------------------

std::string Emitter::Header() const {
  const std::string P = Upper(opt_.prefix);
  const std::string guard = P + "_" + Upper(opt_.file_stem) + "_H_";
  const Tensor& in = T(input_);
  const Tensor& out = T(output_);
  std::string h;
  h += "/* Generated by mcunet codegen from '" + CommentSafe(g_.name) + "'. Do not edit.\n";
  h += " *\n";
  if (ref_) {
    h += " * Baseline build: plain reference kernels, one buffer per tensor (no memory plan).\n";
    h += " * Inputs are int8 NHWC; quantise with\n";
  } else {
    h += " * " + P + "_PEAK_SRAM_BYTES = arena + scratch: the tinyengine memory plan's peak,\n";
    h += " * the figure the cost model reports. Inputs are int8 NHWC; quantise with\n";
  }
  h += " * q = round(x / " + P + "_INPUT_SCALE) + " + P + "_INPUT_ZERO_POINT.\n";
  h += " */\n";
  h += "#ifndef " + guard + "\n#define " + guard + "\n\n#include <stdint.h>\n\n";
  auto def = [&](const std::string& name, const std::string& value, const std::string& comment = "") {
    h += "#define " + P + "_" + name + " " + value + (comment.empty() ? "" : "  /* " + comment + " */") + "\n";
  };
  def("INPUT_BYTES", Str(in.bytes()), "int8 " + in.shape.ToString());
  def("OUTPUT_BYTES", Str(out.bytes()), "int8 " + out.shape.ToString());
  def("INPUT_SCALE", FloatLiteral(in.quant.scale[0]));
  def("INPUT_ZERO_POINT", Str(in.quant.zero_point[0]));
  def("OUTPUT_SCALE", FloatLiteral(out.quant.scale[0]));
  def("OUTPUT_ZERO_POINT", Str(out.quant.zero_point[0]));
  if (ref_) {
    def("ARENA_BYTES", Str(ref_bytes_), "reference kernels: one buffer per tensor, no memory plan");
  } else {
    def("ARENA_BYTES", Str(plan_.arena_bytes), "activations, offsets from the tinyengine plan");
  }
  def("SCRATCH_BYTES", Str(scratch_bytes()), "shared scratch (im2col, in-place depthwise, 1x1 staging)");
  def("PEAK_SRAM_BYTES", Str(arena_bytes() + scratch_bytes()), "arena + scratch");
  def("NUM_OPS", Str(g_.ops.size()));
  h += "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  h += "/* Runs the model. Copies `input` (" + P + "_INPUT_BYTES) into the arena unless it is\n";
  h += " * NULL (then the caller filled " + opt_.prefix + "_input()), and the result into `output`\n";
  h += " * (" + P + "_OUTPUT_BYTES) unless it is NULL (then read " + opt_.prefix + "_output()).\n";
  h += " * Returns 0, or -1 if a kernel failed. Not reentrant: one static arena. */\n";
  h += "int " + opt_.prefix + "_invoke(const int8_t* input, int8_t* output);\n";
  h += "/* The input and output tensors in the arena. */\n";
  h += "int8_t* " + opt_.prefix + "_input(void);\n";
  h += "const int8_t* " + opt_.prefix + "_output(void);\n";
  h += "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " + guard + " */\n";
  return h;
}

std::string Emitter::Source() const {
  const std::string P = Upper(opt_.prefix);
  std::string s;
  s += "/* Generated by mcunet codegen from '" + CommentSafe(g_.name) + "'. Do not edit.\n";
  s += " * Compile with the mcunet runtime (engine/runtime):";
  for (const std::string& src : sources_) s += " " + src;
  s += ".\n * Kernels used:";
  for (const std::string& kn : kernels_) s += " " + kn;
  s += ".\n */\n";
  s += "#include <string.h>\n\n#include \"" + opt_.file_stem + ".h\"\n#include \"mcunet_kernels.h\"\n\n";
  s += "#if defined(__GNUC__) || defined(__clang__)\n";
  s += "#define " + P + "_ALIGN4 __attribute__((aligned(4)))\n";
  s += "#elif defined(__cplusplus) && __cplusplus >= 201103L\n";
  s += "#define " + P + "_ALIGN4 alignas(4)\n";
  s += "#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n";
  s += "#define " + P + "_ALIGN4 _Alignas(4)\n";
  s += "#else\n#error \"mcunet: no way to align the scratch buffer for this compiler\"\n#endif\n\n";
  s += "/* SRAM: the activation arena (tensor offsets are the plan's) and the shared scratch\n";
  s += " * (4-byte aligned: CONV_2D stages int16 im2col columns in it, the Cortex-M 1x1 conv\n";
  s += " * two int16 pixels read by LDM). */\n";
  if (ref_) {
    for (int32_t t : ref_buffers_) s += "static int8_t " + Ptr(t) + "[" + Str(T(t).bytes()) + "];\n";
  } else {
    s += P + "_ALIGN4 static int8_t " + arena_ + "[" + P + "_ARENA_BYTES];\n";
  }
  if (scratch_bytes() > 0) s += P + "_ALIGN4 static int8_t " + scratch_ + "[" + P + "_SCRATCH_BYTES];\n";
  s += "\n";
  if (uses_transpose_) {
    s += "/* TRANSPOSE (int8): output element [a][b][c][d] of dims d0..d3 is input element\n";
    s += " * a*s0 + b*s1 + c*s2 + d*s3. */\n";
    s += "static void transpose_s8(const int8_t* in, int8_t* out, int32_t d0, int32_t d1, int32_t d2, int32_t d3,\n";
    s += "                         int32_t s0, int32_t s1, int32_t s2, int32_t s3) {\n";
    s += "  int32_t a, b, c, d;\n";
    s += "  for (a = 0; a < d0; ++a)\n    for (b = 0; b < d1; ++b)\n      for (c = 0; c < d2; ++c)\n";
    s += "        for (d = 0; d < d3; ++d) *out++ = in[a * s0 + b * s1 + c * s2 + d * s3];\n}\n\n";
  }
  s += "/* Flash: weights, biases, requantisation parameters. */\n";
  s += data_;
  s += "\nint8_t* " + opt_.prefix + "_input(void) { return " + Ptr(input_) + "; }\n";
  s += "const int8_t* " + opt_.prefix + "_output(void) { return " + Ptr(output_) + "; }\n\n";
  s += "int " + opt_.prefix + "_invoke(const int8_t* input, int8_t* output) {\n";
  s += "  if (input) memcpy(" + Ptr(input_) + ", input, " + P + "_INPUT_BYTES);\n";
  s += body_;
  s += "  if (output) memcpy(output, " + Ptr(output_) + ", " + P + "_OUTPUT_BYTES);\n";
  s += "  return 0;\n}\n";
  return s;
}

GeneratedCode Emitter::Run() {
  if (!IsCIdentifier(opt_.prefix)) {
    throw InvalidInput("codegen: prefix '" + opt_.prefix + "' is not a C identifier");
  }
  if (!IsCIdentifier(opt_.file_stem)) {
    throw InvalidInput("codegen: file stem '" + opt_.file_stem + "' should be a plain name like 'model'");
  }
  CheckPlan();
  input_ = g_.inputs[0];
  output_ = g_.outputs[0];
  for (int32_t t : {input_, output_}) {
    const Tensor& x = T(t);
    if (x.dtype != DType::kInt8 || x.quant.scale.size() != 1 || x.quant.zero_point.size() != 1) {
      throw Unsupported("codegen: graph " + std::string(t == input_ ? "input " : "output ") + TensorName(t) +
                        " must be int8 with one scale and zero point, is " + std::string(DTypeName(x.dtype)) +
                        " with " + Str(x.quant.scale.size()) + " scales");
    }
  }
  if (ref_) {
    std::vector<char> seen(g_.tensors.size(), 0);
    auto add = [&](int32_t t) {
      if (t < 0 || seen[t] || T(t).is_constant) return;
      seen[t] = 1;
      ref_buffers_.push_back(t);
      ref_bytes_ += T(t).bytes();
    };
    add(input_);
    for (const Op& op : g_.ops) {
      for (int32_t t : op.inputs) add(t);
      add(op.output);
    }
  }
  for (int k = 0; k < static_cast<int>(g_.ops.size()); ++k) EmitOp(k);

  GeneratedCode c;
  c.prefix = opt_.prefix;
  c.header_name = opt_.file_stem + ".h";
  c.source_name = opt_.file_stem + ".c";
  c.header = Header();
  c.source = Source();
  c.kernel_sources.assign(sources_.begin(), sources_.end());
  c.kernels.assign(kernels_.begin(), kernels_.end());
  c.arena_bytes = arena_bytes();
  c.scratch_bytes = scratch_bytes();
  c.peak_sram_bytes = arena_bytes() + scratch_bytes();
  c.input_bytes = T(input_).bytes();
  c.output_bytes = T(output_).bytes();
  c.const_bytes = const_bytes_;
  return c;
}

}  // namespace

GeneratedCode GenerateCode(const CostReport& report, const CodegenOptions& options) {
  return Emitter(report, options).Run();
}

GeneratedCode GenerateCode(const CostReport& report, const Board& board, const CodegenOptions& options) {
  const FitResult fit = Fits(report, board);
  if (!fit.fits) {
    throw InvalidInput("codegen: model '" + report.graph.name + "' " + fit.message);
  }
  return GenerateCode(report, options);
}

std::vector<std::string> WriteGeneratedCode(const GeneratedCode& code, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InvalidInput("codegen: cannot create directory '" + dir + "': " + ec.message());
  std::string list;
  for (const std::string& s : code.kernel_sources) list += s + "\n";
  const std::vector<std::pair<std::string, const std::string*>> files = {
      {code.header_name, &code.header}, {code.source_name, &code.source}, {"kernels.txt", &list}};
  std::vector<std::string> written;
  for (const auto& [name, text] : files) {
    const std::string path = (fs::path(dir) / name).string();
    std::ofstream f(path, std::ios::binary);
    f << *text;
    f.close();
    if (!f) throw Error("codegen: cannot write '" + path + "'");
    written.push_back(path);
  }
  return written;
}

}  // namespace mcunet
