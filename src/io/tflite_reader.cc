// .tflite reader: verifies the flatbuffer, then maps the single subgraph of a
// TFLite model onto mcunet's Graph IR, one Tensor per file tensor and one Op
// per file operator, in file order.

#include "mcunet/tflite_reader.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "mcunet/error.h"
#include "tflite_schema_generated.h"

namespace mcunet {
namespace {

// Union type ids are the wire format: these must match the public schema.
static_assert(static_cast<int>(tflite::BuiltinOptions::Conv2DOptions) == 1);
static_assert(static_cast<int>(tflite::BuiltinOptions::DepthwiseConv2DOptions) == 2);
static_assert(static_cast<int>(tflite::BuiltinOptions::Pool2DOptions) == 5);
static_assert(static_cast<int>(tflite::BuiltinOptions::FullyConnectedOptions) == 8);
static_assert(static_cast<int>(tflite::BuiltinOptions::SoftmaxOptions) == 9);
static_assert(static_cast<int>(tflite::BuiltinOptions::AddOptions) == 11);
static_assert(static_cast<int>(tflite::BuiltinOptions::ReshapeOptions) == 17);
static_assert(static_cast<int>(tflite::BuiltinOptions::PadOptions) == 22);
static_assert(static_cast<int>(tflite::BuiltinOptions::TransposeOptions) == 26);
static_assert(static_cast<int>(tflite::BuiltinOptions::ReducerOptions) == 27);
static_assert(static_cast<int>(tflite::BuiltinOptions::DequantizeOptions) == 38);
static_assert(static_cast<int>(tflite::BuiltinOptions::QuantizeOptions) == 89);

constexpr int kSchemaVersion = 3;
constexpr int kMaxRank = 4;
constexpr int kMaxOpInputs = 3;
// Limits that keep every derived quantity (bytes, MACs, their sums) far from
// int64 overflow; no model that fits a computer comes near them.
constexpr int64_t kMaxTensorElements = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxTotalMacs = int64_t{1} << 53;

std::string Str(int64_t v) { return std::to_string(v); }

// Name of a builtin op code for messages: "CONCATENATION", or the number when
// the code is beyond the names this schema knows.
std::string BuiltinName(int32_t code) {
  const char* name = "";
  if (code >= 0) name = tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(code));
  if (name == nullptr || *name == '\0') return "builtin code " + Str(code);
  return name;
}

// The builtin code of an OperatorCode. Files written before the int32 field
// existed only set the byte field; newer files set both (the byte one to the
// placeholder 127 for codes it cannot hold). The larger of the two is the code.
int32_t BuiltinCode(const tflite::OperatorCode& code) {
  return std::max<int32_t>(code.deprecated_builtin_code(), static_cast<int32_t>(code.builtin_code()));
}

std::string OpCodeName(const tflite::OperatorCode& code) {
  const int32_t builtin = BuiltinCode(code);
  if (builtin == static_cast<int32_t>(tflite::BuiltinOperator::CUSTOM)) {
    const flatbuffers::String* custom = code.custom_code();
    return "CUSTOM(" + (custom ? custom->str() : std::string()) + ")";
  }
  return BuiltinName(builtin);
}

std::string TensorTypeName(tflite::TensorType t) {
  const char* name = tflite::EnumNameTensorType(t);
  if (name == nullptr || *name == '\0') return "type " + Str(static_cast<int>(t));
  return name;
}

// Builds a Graph from a verified model. Every error names `source_` and the
// tensor or operator at fault.
class Reader {
 public:
  Reader(const tflite::Model& model, const uint8_t* file, size_t file_size, const std::string& source)
      : model_(model), file_(file), file_size_(file_size), source_(source) {}

  Graph Read() {
    if (model_.version() != kSchemaVersion) {
      throw Unsupported(source_ + ": schema version " + Str(model_.version()) + ", expected " +
                        Str(kSchemaVersion));
    }
    const auto* subgraphs = model_.subgraphs();
    if (subgraphs == nullptr || subgraphs->size() == 0) Fail("the model has no subgraph");
    if (subgraphs->size() != 1) {
      throw Unsupported(source_ + ": the model has " + Str(subgraphs->size()) +
                        " subgraphs; only single-subgraph models are supported");
    }
    const tflite::SubGraph& subgraph = *subgraphs->Get(0);

    // Named after the file ("mcunet-vww1"): subgraph names are mostly "main".
    Graph graph;
    if (!source_.empty() && source_[0] != '<') {
      graph.name = std::filesystem::path(source_).stem().string();
    } else if (subgraph.name() != nullptr) {
      graph.name = subgraph.name()->str();
    }

    const auto* tensors = subgraph.tensors();
    num_tensors_ = tensors ? static_cast<int64_t>(tensors->size()) : 0;
    if (num_tensors_ > std::numeric_limits<int32_t>::max()) Fail("too many tensors");
    graph.tensors.reserve(num_tensors_);
    for (int64_t i = 0; i < num_tensors_; ++i) {
      const tflite::Tensor* t = tensors->Get(i);
      graph.tensors.push_back(ReadTensor(static_cast<int32_t>(i), *t));
    }

    graph.inputs = ReadTensorList(subgraph.inputs(), "subgraph input");
    graph.outputs = ReadTensorList(subgraph.outputs(), "subgraph output");

    const auto* operators = subgraph.operators();
    const int64_t num_ops = operators ? operators->size() : 0;
    graph.ops.reserve(num_ops);
    int64_t total_macs = 0;
    for (int64_t i = 0; i < num_ops; ++i) {
      Op op = ReadOperator(static_cast<int>(i), *operators->Get(i), graph);
      total_macs += op.macs;
      if (total_macs > kMaxTotalMacs) Fail("operator #" + Str(i) + ": total MACs exceed 2^53");
      graph.ops.push_back(op);
    }

    try {
      graph.Validate();
    } catch (const InvalidInput& e) {
      throw InvalidInput(source_ + ": " + e.what());
    }
    return graph;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const { throw InvalidInput(source_ + ": " + what); }

  static std::string TensorLabel(int32_t index, const tflite::Tensor& t) {
    std::string label = "tensor #" + Str(index);
    if (t.name() != nullptr && t.name()->size() > 0) label += " '" + t.name()->str() + "'";
    return label;
  }

  Tensor ReadTensor(int32_t index, const tflite::Tensor& t) {
    const std::string label = TensorLabel(index, t);
    Tensor out;
    if (t.name() != nullptr) out.name = t.name()->str();

    switch (t.type()) {
      case tflite::TensorType::INT8: out.dtype = DType::kInt8; break;
      case tflite::TensorType::UINT8: out.dtype = DType::kUInt8; break;
      case tflite::TensorType::INT16: out.dtype = DType::kInt16; break;
      case tflite::TensorType::INT32: out.dtype = DType::kInt32; break;
      case tflite::TensorType::INT64: out.dtype = DType::kInt64; break;
      case tflite::TensorType::FLOAT32: out.dtype = DType::kFloat32; break;
      default:
        throw Unsupported(source_ + ": " + label + " has element type " + TensorTypeName(t.type()) +
                          ", which mcunet does not support");
    }
    if (t.sparsity() != nullptr) throw Unsupported(source_ + ": " + label + " is sparse, which mcunet does not support");

    // Shape: rank 0 (scalar) to 4, every dimension positive.
    const auto* shape = t.shape();
    const int64_t rank = shape ? shape->size() : 0;
    if (rank > kMaxRank) {
      Fail(label + " has rank " + Str(rank) + "; mcunet supports tensors of rank at most " + Str(kMaxRank));
    }
    out.shape.rank = static_cast<int>(rank);
    int64_t elements = 1;
    for (int64_t d = 0; d < rank; ++d) {
      const int32_t dim = shape->Get(d);
      if (dim <= 0) Fail(label + ": dimension " + Str(d) + " is " + Str(dim) + ", expected > 0");
      out.shape.dims[d] = dim;
      elements *= dim;
      if (elements > kMaxTensorElements) Fail(label + " has 2^31 or more elements");
    }

    // Dynamic shapes: TFLite marks unknown dimensions with -1 in the
    // signature (the shape then holds a placeholder 1).
    if (const auto* sig = t.shape_signature(); sig != nullptr && sig->size() > 0) {
      if (static_cast<int64_t>(sig->size()) != rank) {
        Fail(label + " has a shape_signature of rank " + Str(sig->size()) + " but a shape of rank " + Str(rank));
      }
      for (int64_t d = 0; d < rank; ++d) {
        if (sig->Get(d) != shape->Get(d)) {
          throw Unsupported(source_ + ": " + label + " has a dynamic shape (shape_signature dimension " + Str(d) +
                            " is " + Str(sig->Get(d)) + ", shape " + Str(shape->Get(d)) +
                            "); mcunet needs static shapes");
        }
      }
    }

    // Constant data, from the buffer table (or, for models over 2 GB, from
    // outside the flatbuffer at an offset into the file).
    const auto* buffers = model_.buffers();
    const uint32_t buffer_index = t.buffer();
    const int64_t num_buffers = buffers ? buffers->size() : 0;
    if (buffer_index >= num_buffers) {
      if (buffer_index != 0) {
        Fail(label + " refers to buffer " + Str(buffer_index) + ", but the model has " + Str(num_buffers) +
             " buffers");
      }
    } else {
      const tflite::Buffer& buffer = *buffers->Get(buffer_index);
      if (buffer.data() != nullptr && buffer.data()->size() > 0) {
        out.data.assign(buffer.data()->begin(), buffer.data()->end());
      } else if (buffer.offset() > 1) {
        const uint64_t offset = buffer.offset();
        const uint64_t size = buffer.size();
        if (offset > file_size_ || size > file_size_ - offset) {
          Fail(label + ": buffer " + Str(buffer_index) + " points at bytes [" + std::to_string(offset) + ", +" +
               std::to_string(size) + ") outside the " + Str(file_size_) + "-byte file");
        }
        out.data.assign(file_ + offset, file_ + offset + size);
      }
    }
    out.is_constant = !out.data.empty();
    if (out.is_constant && static_cast<int64_t>(out.data.size()) != out.bytes()) {
      Fail(label + " " + out.shape.ToString() + " of " + std::string(DTypeName(out.dtype)) + " needs " +
           Str(out.bytes()) + " bytes, but its buffer " + Str(buffer_index) + " holds " + Str(out.data.size()));
    }

    if (t.quantization() != nullptr) ReadQuantization(label, *t.quantization(), out);
    return out;
  }

  void ReadQuantization(const std::string& label, const tflite::QuantizationParameters& q, Tensor& out) {
    if (q.details_type() != tflite::QuantizationDetails::NONE) {
      throw Unsupported(source_ + ": " + label + " uses custom quantization, which mcunet does not support");
    }
    const auto* scale = q.scale();
    const auto* zero_point = q.zero_point();
    if (scale == nullptr || scale->size() == 0) {
      if (zero_point != nullptr && zero_point->size() > 0) Fail(label + " has quantization zero points but no scales");
      return;
    }
    const int64_t n = scale->size();
    if (zero_point != nullptr && static_cast<int64_t>(zero_point->size()) != n) {
      Fail(label + " has " + Str(n) + " quantization scales but " + Str(zero_point->size()) + " zero points");
    }
    out.quant.scale.assign(scale->begin(), scale->end());
    for (int64_t k = 0; k < n; ++k) {
      const float s = out.quant.scale[k];
      if (!std::isfinite(s) || s < 0.0f) Fail(label + ": quantization scale[" + Str(k) + "] is not a finite value >= 0");
    }
    if (zero_point != nullptr) {
      // The verifier only checks 4-byte alignment of a vector, so a corrupt
      // file can misalign these int64s: copy bytes instead of loading them.
      out.quant.zero_point.resize(n);
      std::memcpy(out.quant.zero_point.data(), zero_point->Data(), n * sizeof(int64_t));
    } else {
      out.quant.zero_point.assign(n, 0);
    }
    const int32_t dim = q.quantized_dimension();
    out.quant.quantized_dimension = dim;
    if (n > 1 && !out.is_constant) {
      Fail(label + " is an activation with " + Str(n) +
           " per-channel scales; activations must be quantised per tensor (one scale)");
    }
    if (n > 1) {
      if (dim < 0 || dim >= out.shape.rank) {
        Fail(label + ": quantized_dimension " + Str(dim) + " is outside its rank-" + Str(out.shape.rank) + " shape");
      }
      if (out.shape.dims[dim] != n) {
        Fail(label + " has " + Str(n) + " per-channel scales, but dimension " + Str(dim) + " of " +
             out.shape.ToString() + " is " + Str(out.shape.dims[dim]));
      }
    }
  }

  std::vector<int32_t> ReadTensorList(const flatbuffers::Vector<int32_t>* list, const std::string& what) const {
    std::vector<int32_t> out;
    if (list == nullptr) return out;
    for (int32_t t : *list) {
      if (t < 0 || t >= num_tensors_) Fail(what + " refers to tensor " + Str(t) + " of " + Str(num_tensors_));
      out.push_back(t);
    }
    return out;
  }

  // --- Operators ---------------------------------------------------------------

  Op ReadOperator(int index, const tflite::Operator& op, const Graph& graph) {
    const std::string where = "operator #" + Str(index);
    const auto* codes = model_.operator_codes();
    const int64_t num_codes = codes ? codes->size() : 0;
    if (op.opcode_index() >= num_codes) {
      Fail(where + " uses opcode_index " + Str(op.opcode_index()) + ", but the model has " + Str(num_codes) +
           " operator codes");
    }
    const tflite::OperatorCode& code = *codes->Get(op.opcode_index());
    const std::string name = OpCodeName(code);
    const std::string at = where + " (" + name + ")";

    Op out;
    out.source_index = index;
    int min_inputs = 1;
    int max_inputs = 1;
    switch (static_cast<tflite::BuiltinOperator>(BuiltinCode(code))) {
      case tflite::BuiltinOperator::CONV_2D: out.kind = OpKind::kConv2D; min_inputs = 2; max_inputs = 3; break;
      case tflite::BuiltinOperator::DEPTHWISE_CONV_2D:
        out.kind = OpKind::kDepthwiseConv2D; min_inputs = 2; max_inputs = 3; break;
      case tflite::BuiltinOperator::FULLY_CONNECTED:
        out.kind = OpKind::kFullyConnected; min_inputs = 2; max_inputs = 3; break;
      case tflite::BuiltinOperator::ADD: out.kind = OpKind::kAdd; min_inputs = max_inputs = 2; break;
      case tflite::BuiltinOperator::MEAN: out.kind = OpKind::kMean; min_inputs = max_inputs = 2; break;
      case tflite::BuiltinOperator::AVERAGE_POOL_2D: out.kind = OpKind::kAveragePool2D; break;
      case tflite::BuiltinOperator::QUANTIZE: out.kind = OpKind::kQuantize; break;
      case tflite::BuiltinOperator::DEQUANTIZE: out.kind = OpKind::kDequantize; break;
      case tflite::BuiltinOperator::TRANSPOSE: out.kind = OpKind::kTranspose; min_inputs = max_inputs = 2; break;
      case tflite::BuiltinOperator::PAD: out.kind = OpKind::kPad; min_inputs = max_inputs = 2; break;
      case tflite::BuiltinOperator::RESHAPE: out.kind = OpKind::kReshape; max_inputs = 2; break;
      case tflite::BuiltinOperator::SOFTMAX: out.kind = OpKind::kSoftmax; break;
      default:
        throw Unsupported(source_ + ": operator #" + Str(index) + " uses unsupported op " + name);
    }

    // Inputs in TFLite order; -1 marks an absent optional input.
    const auto* inputs = op.inputs();
    const int64_t num_inputs = inputs ? inputs->size() : 0;
    if (num_inputs > max_inputs || num_inputs > kMaxOpInputs) {
      Fail(at + " has " + Str(num_inputs) + " inputs, expected at most " + Str(max_inputs));
    }
    for (int64_t k = 0; k < num_inputs; ++k) {
      const int32_t t = inputs->Get(k);
      if (t < -1 || t >= num_tensors_) Fail(at + ": input " + Str(k) + " refers to tensor " + Str(t) + " of " + Str(num_tensors_));
      out.inputs[k] = t;
    }
    for (int k = 0; k < min_inputs; ++k) {
      if (out.inputs[k] < 0) Fail(at + " lacks its required input " + Str(k));
    }
    const auto* outputs = op.outputs();
    if (outputs == nullptr || outputs->size() != 1) {
      Fail(at + " has " + Str(outputs ? outputs->size() : 0) + " outputs, expected exactly 1");
    }
    out.output = outputs->Get(0);
    if (out.output < 0 || out.output >= num_tensors_) {
      Fail(at + ": output refers to tensor " + Str(out.output) + " of " + Str(num_tensors_));
    }

    switch (out.kind) {
      case OpKind::kConv2D: ReadConv(at, op, graph, out); break;
      case OpKind::kDepthwiseConv2D: ReadDepthwise(at, op, graph, out); break;
      case OpKind::kAveragePool2D: ReadPool(at, op, graph, out); break;
      case OpKind::kFullyConnected: ReadFullyConnected(at, op, graph, out); break;
      case OpKind::kAdd:
        if (const auto* opt = op.builtin_options_as_AddOptions()) {
          out.activation = ReadActivation(at, opt->fused_activation_function());
        }
        break;
      default: break;
    }
    CheckOpTypes(at, graph, out);
    return out;
  }

  // int16 (16x8) tensors and misplaced per-channel / per-tensor
  // quantisation on the ops the int8 engine runs.
  void CheckOpTypes(const std::string& at, const Graph& graph, const Op& op) const {
    if (op.kind != OpKind::kQuantize && op.kind != OpKind::kDequantize) {
      for (int32_t t : {op.inputs[0], op.inputs[1], op.inputs[2], op.output}) {
        if (t < 0 || graph.tensors[t].dtype != DType::kInt16) continue;
        const std::string name = graph.tensors[t].name;
        throw Unsupported(source_ + ": " + at + ": tensor #" + Str(t) + (name.empty() ? "" : " '" + name + "'") +
                          " is INT16; mcunet runs int8 models (16x8 quantisation is not supported)");
      }
    }
    const bool conv = op.kind == OpKind::kConv2D || op.kind == OpKind::kPointwiseConv2D ||
                      op.kind == OpKind::kDepthwiseConv2D;
    if (!conv || op.inputs[1] < 0) return;
    const Tensor& w = graph.tensors[op.inputs[1]];
    if (w.dtype != DType::kInt8) return;
    const std::string wname = "filter tensor #" + Str(op.inputs[1]) + (w.name.empty() ? "" : " '" + w.name + "'");
    if (w.quant.empty()) Fail(at + ": int8 " + wname + " has no quantisation scales");
    const int expected_dim = op.kind == OpKind::kDepthwiseConv2D ? 3 : 0;
    if (w.quant.scale.size() > 1 && w.quant.quantized_dimension != expected_dim) {
      Fail(at + ": " + wname + " is quantised per channel along dimension " + Str(w.quant.quantized_dimension) +
           ", expected " + Str(expected_dim) + " (its output channels)");
    }
    if (op.inputs[2] >= 0) {
      const Tensor& b = graph.tensors[op.inputs[2]];
      if (!b.quant.empty() && b.quant.scale.size() != w.quant.scale.size()) {
        Fail(at + ": bias tensor #" + Str(op.inputs[2]) + (b.name.empty() ? "" : " '" + b.name + "'") + " has " +
             Str(b.quant.scale.size()) + " scale(s) but the " + wname + " has " + Str(w.quant.scale.size()) +
             (b.quant.scale.size() == 1 ? " (per-tensor where per-channel is expected)" : ""));
      }
    }
  }

  Activation ReadActivation(const std::string& at, tflite::ActivationFunctionType a) const {
    switch (a) {
      case tflite::ActivationFunctionType::NONE: return Activation::kNone;
      case tflite::ActivationFunctionType::RELU: return Activation::kRelu;
      case tflite::ActivationFunctionType::RELU6: return Activation::kRelu6;
      default: {
        const char* name = tflite::EnumNameActivationFunctionType(a);
        throw Unsupported(source_ + ": " + at + " uses fused activation " +
                          (name && *name ? std::string(name) : Str(static_cast<int>(a))) +
                          ", which mcunet does not support");
      }
    }
  }

  const Shape& ShapeOf(const Graph& graph, int32_t t) const { return graph.tensors[t].shape; }

  void RequireRank(const std::string& at, const std::string& what, const Shape& s, int rank) const {
    if (s.rank != rank) Fail(at + ": " + what + " " + s.ToString() + " should have rank " + Str(rank));
  }

  // Resolves padding along one spatial axis the way TFLite does, after
  // checking that the stored output size is the one TFLite would compute.
  int ResolveAxis(const std::string& at, const char* axis, Padding padding, int64_t in, int64_t out, int64_t kernel,
                  int64_t stride, int64_t dilation) const {
    if (kernel <= 0) Fail(at + ": kernel " + axis + " is " + Str(kernel) + ", expected > 0");
    if (stride <= 0) Fail(at + ": stride " + axis + " is " + Str(stride) + ", expected > 0");
    if (dilation <= 0) Fail(at + ": dilation " + axis + " is " + Str(dilation) + ", expected > 0");
    const int64_t effective = (kernel - 1) * dilation + 1;
    int64_t expected = 0;
    if (padding == Padding::kSame) {
      expected = (in + stride - 1) / stride;
    } else {
      if (effective > in) Fail(at + ": VALID kernel " + axis + " spans " + Str(effective) + " > input " + Str(in));
      expected = (in - effective) / stride + 1;
    }
    if (out != expected) {
      Fail(at + ": output " + axis + " is " + Str(out) + ", but input " + Str(in) + ", kernel " + Str(kernel) +
           ", stride " + Str(stride) + ", dilation " + Str(dilation) + " give " + Str(expected));
    }
    if (padding == Padding::kValid) return 0;
    const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
    return static_cast<int>(total / 2);
  }

  static Padding ToPadding(tflite::Padding p) { return p == tflite::Padding::VALID ? Padding::kValid : Padding::kSame; }

  void CheckPadding(const std::string& at, tflite::Padding p) const {
    if (p != tflite::Padding::SAME && p != tflite::Padding::VALID) {
      Fail(at + ": padding " + Str(static_cast<int>(p)) + " is neither SAME nor VALID");
    }
  }

  void CheckBias(const std::string& at, const Graph& graph, const Op& op, int64_t channels) const {
    if (op.inputs[2] < 0) return;
    const Shape& bias = ShapeOf(graph, op.inputs[2]);
    if (bias.elements() != channels) {
      Fail(at + ": bias " + bias.ToString() + " should hold " + Str(channels) + " values");
    }
  }

  // Input [N,H,W,C], filter [O,KH,KW,C], output [N,OH,OW,O].
  void ReadConv(const std::string& at, const tflite::Operator& op, const Graph& graph, Op& out) const {
    const auto* opt = op.builtin_options_as_Conv2DOptions();
    if (opt == nullptr) Fail(at + " lacks its Conv2DOptions");
    const Shape& in = ShapeOf(graph, out.inputs[0]);
    const Shape& filter = ShapeOf(graph, out.inputs[1]);
    const Shape& res = ShapeOf(graph, out.output);
    RequireRank(at, "input", in, 4);
    RequireRank(at, "filter", filter, 4);
    RequireRank(at, "output", res, 4);
    if (res[0] != in[0]) Fail(at + ": output batch " + Str(res[0]) + " differs from input batch " + Str(in[0]));
    if (filter[0] != res[3]) {
      Fail(at + ": filter " + filter.ToString() + " has " + Str(filter[0]) + " output channels, output " +
           res.ToString() + " has " + Str(res[3]));
    }
    if (filter[3] != in[3]) {
      if (in[3] % filter[3] == 0) {
        throw Unsupported(source_ + ": " + at + " is a grouped convolution (input " + in.ToString() + ", filter " +
                          filter.ToString() + "), which mcunet does not support");
      }
      Fail(at + ": filter " + filter.ToString() + " does not match input " + in.ToString());
    }
    CheckBias(at, graph, out, res[3]);
    CheckPadding(at, opt->padding());
    out.padding = ToPadding(opt->padding());
    out.kernel_h = filter[1];
    out.kernel_w = filter[2];
    out.stride_h = opt->stride_h();
    out.stride_w = opt->stride_w();
    out.dilation_h = opt->dilation_h_factor();
    out.dilation_w = opt->dilation_w_factor();
    out.activation = ReadActivation(at, opt->fused_activation_function());
    out.pad_top = ResolveAxis(at, "height", out.padding, in[1], res[1], out.kernel_h, out.stride_h, out.dilation_h);
    out.pad_left = ResolveAxis(at, "width", out.padding, in[2], res[2], out.kernel_w, out.stride_w, out.dilation_w);
    out.macs = int64_t{res[0]} * res[1] * res[2] * res[3] * filter[1] * filter[2] * filter[3];
    if (out.kernel_h == 1 && out.kernel_w == 1 && out.stride_h == 1 && out.stride_w == 1 && out.dilation_h == 1 &&
        out.dilation_w == 1) {
      out.kind = OpKind::kPointwiseConv2D;
    }
  }

  // Input [N,H,W,C], filter [1,KH,KW,C*M], output [N,OH,OW,C*M].
  void ReadDepthwise(const std::string& at, const tflite::Operator& op, const Graph& graph, Op& out) const {
    const auto* opt = op.builtin_options_as_DepthwiseConv2DOptions();
    if (opt == nullptr) Fail(at + " lacks its DepthwiseConv2DOptions");
    const Shape& in = ShapeOf(graph, out.inputs[0]);
    const Shape& filter = ShapeOf(graph, out.inputs[1]);
    const Shape& res = ShapeOf(graph, out.output);
    RequireRank(at, "input", in, 4);
    RequireRank(at, "filter", filter, 4);
    RequireRank(at, "output", res, 4);
    if (res[0] != in[0]) Fail(at + ": output batch " + Str(res[0]) + " differs from input batch " + Str(in[0]));
    if (filter[0] != 1 || filter[3] != res[3]) {
      Fail(at + ": filter " + filter.ToString() + " should be [1,KH,KW," + Str(res[3]) + "] for output " +
           res.ToString());
    }
    if (res[3] % in[3] != 0) {
      Fail(at + ": output channels " + Str(res[3]) + " are not a multiple of input channels " + Str(in[3]));
    }
    CheckBias(at, graph, out, res[3]);
    CheckPadding(at, opt->padding());
    // The channel counts define the multiplier (the option is redundant and
    // left at 0 or 1 by some converters).
    out.depth_multiplier = res[3] / in[3];
    out.padding = ToPadding(opt->padding());
    out.kernel_h = filter[1];
    out.kernel_w = filter[2];
    out.stride_h = opt->stride_h();
    out.stride_w = opt->stride_w();
    out.dilation_h = opt->dilation_h_factor();
    out.dilation_w = opt->dilation_w_factor();
    out.activation = ReadActivation(at, opt->fused_activation_function());
    out.pad_top = ResolveAxis(at, "height", out.padding, in[1], res[1], out.kernel_h, out.stride_h, out.dilation_h);
    out.pad_left = ResolveAxis(at, "width", out.padding, in[2], res[2], out.kernel_w, out.stride_w, out.dilation_w);
    out.macs = int64_t{res[0]} * res[1] * res[2] * res[3] * filter[1] * filter[2];
  }

  void ReadPool(const std::string& at, const tflite::Operator& op, const Graph& graph, Op& out) const {
    const auto* opt = op.builtin_options_as_Pool2DOptions();
    if (opt == nullptr) Fail(at + " lacks its Pool2DOptions");
    const Shape& in = ShapeOf(graph, out.inputs[0]);
    const Shape& res = ShapeOf(graph, out.output);
    RequireRank(at, "input", in, 4);
    RequireRank(at, "output", res, 4);
    if (res[0] != in[0] || res[3] != in[3]) {
      Fail(at + ": output " + res.ToString() + " should keep the batch and channels of input " + in.ToString());
    }
    CheckPadding(at, opt->padding());
    out.padding = ToPadding(opt->padding());
    out.kernel_h = opt->filter_height();
    out.kernel_w = opt->filter_width();
    out.stride_h = opt->stride_h();
    out.stride_w = opt->stride_w();
    out.activation = ReadActivation(at, opt->fused_activation_function());
    out.pad_top = ResolveAxis(at, "height", out.padding, in[1], res[1], out.kernel_h, out.stride_h, 1);
    out.pad_left = ResolveAxis(at, "width", out.padding, in[2], res[2], out.kernel_w, out.stride_w, 1);
  }

  // Weights [O, I]; the input is read as rows of I values, output [..., O].
  void ReadFullyConnected(const std::string& at, const tflite::Operator& op, const Graph& graph, Op& out) const {
    const auto* opt = op.builtin_options_as_FullyConnectedOptions();
    if (opt != nullptr) {
      if (opt->weights_format() != 0) {
        throw Unsupported(source_ + ": " + at + " uses shuffled weights, which mcunet does not support");
      }
      out.activation = ReadActivation(at, opt->fused_activation_function());
    }
    const Shape& in = ShapeOf(graph, out.inputs[0]);
    const Shape& weights = ShapeOf(graph, out.inputs[1]);
    const Shape& res = ShapeOf(graph, out.output);
    RequireRank(at, "weights", weights, 2);
    if (in.elements() % weights[1] != 0) {
      Fail(at + ": input " + in.ToString() + " is not a whole number of rows of " + Str(weights[1]));
    }
    if (res.rank == 0 || res[res.rank - 1] != weights[0]) {
      Fail(at + ": output " + res.ToString() + " should end in " + Str(weights[0]) + " (weights " +
           weights.ToString() + ")");
    }
    CheckBias(at, graph, out, weights[0]);
    out.kernel_h = out.kernel_w = 1;
    out.macs = (in.elements() / weights[1]) * weights[0] * weights[1];
  }

  const tflite::Model& model_;
  const uint8_t* file_;
  size_t file_size_;
  const std::string& source_;
  int64_t num_tensors_ = 0;
};

// --- Locating corruption ---------------------------------------------------------
//
// The flatbuffers verifier only answers yes or no. When it says no, these
// re-verify the model piece by piece (each container shallowly, then each of
// its tables in full) to name the first table that fails and its offset.

std::string At(const uint8_t* buf, const void* p) {
  return "at byte " + Str(reinterpret_cast<const uint8_t*>(p) - buf);
}

const flatbuffers::Table* AsTable(const void* p) { return reinterpret_cast<const flatbuffers::Table*>(p); }

// Checks a table's vtable and that each of `fields` (offsets to vectors or
// strings) lands inside the buffer. Does not look at what they point to.
bool ShallowTable(flatbuffers::Verifier& v, const void* table, std::initializer_list<flatbuffers::voffset_t> fields) {
  if (!AsTable(table)->VerifyTableStart(v)) return false;
  for (flatbuffers::voffset_t f : fields) {
    if (!AsTable(table)->VerifyOffset(v, f)) return false;
  }
  return true;
}

// Verifies each table of `vec` on its own; returns "<what> #i (table at byte
// N)" for the first one that fails, or "" when all pass.
template <typename T>
std::string FirstBadTable(const uint8_t* buf, size_t size, const flatbuffers::Vector<flatbuffers::Offset<T>>* vec,
                          const std::string& what) {
  if (vec == nullptr) return "";
  for (flatbuffers::uoffset_t i = 0; i < vec->size(); ++i) {
    flatbuffers::Verifier v(buf, size);
    const T* item = vec->Get(i);
    if (!item->Verify(v)) return what + " #" + Str(i) + " (table " + At(buf, item) + ")";
  }
  return "";
}

// Names the first table that fails verification: "subgraph 0, tensor #12
// (table at byte 4096)".
std::string LocateCorruption(const uint8_t* buf, size_t size) {
  using tflite::Model;
  using tflite::SubGraph;
  flatbuffers::Verifier root_check(buf, size);
  if (root_check.VerifyOffset(0) == 0) return "the root table offset (byte 0)";
  const Model* model = tflite::GetModel(buf);
  {
    flatbuffers::Verifier v(buf, size);
    if (!ShallowTable(v, model, {Model::VT_OPERATOR_CODES, Model::VT_SUBGRAPHS, Model::VT_BUFFERS}) ||
        !v.VerifyVector(model->operator_codes()) || !v.VerifyVector(model->subgraphs()) ||
        !v.VerifyVector(model->buffers())) {
      return "the Model table (" + At(buf, model) + ")";
    }
  }
  std::string bad = FirstBadTable(buf, size, model->operator_codes(), "operator code");
  if (bad.empty()) bad = FirstBadTable(buf, size, model->buffers(), "buffer");
  if (!bad.empty()) return bad;
  const auto* subgraphs = model->subgraphs();
  for (flatbuffers::uoffset_t s = 0; subgraphs != nullptr && s < subgraphs->size(); ++s) {
    const SubGraph* subgraph = subgraphs->Get(s);
    const std::string where = "subgraph " + Str(s);
    flatbuffers::Verifier v(buf, size);
    if (!ShallowTable(v, subgraph, {SubGraph::VT_TENSORS, SubGraph::VT_OPERATORS}) ||
        !v.VerifyVector(subgraph->tensors()) || !v.VerifyVector(subgraph->operators())) {
      return where + " (table " + At(buf, subgraph) + ")";
    }
    bad = FirstBadTable(buf, size, subgraph->tensors(), where + ", tensor");
    if (bad.empty()) bad = FirstBadTable(buf, size, subgraph->operators(), where + ", operator");
    if (!bad.empty()) return bad;
    flatbuffers::Verifier full(buf, size);
    if (!subgraph->Verify(full)) return where + " (table " + At(buf, subgraph) + ")";
  }
  return "the Model table (" + At(buf, model) + ")";
}

}  // namespace

Graph ReadTflite(const uint8_t* data, size_t size, const std::string& source) {
  if (data == nullptr || size == 0) throw InvalidInput(source + ": empty file, not a .tflite model");
  if (size < 8) throw InvalidInput(source + ": " + Str(size) + " bytes is too short for a .tflite model");
  if (std::memcmp(data + 4, tflite::ModelIdentifier(), 4) != 0) {
    std::string found;
    for (int i = 4; i < 8; ++i) {
      const char c = static_cast<char>(data[i]);
      found += (c >= 32 && c < 127) ? c : '?';
    }
    throw InvalidInput(source + ": file identifier is '" + found + "', expected 'TFL3' (not a .tflite model)");
  }
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    throw Unsupported(source + ": " + Str(size) + " bytes; flatbuffers over 2 GB are not supported");
  }
  // The generated accessors read scalars in place, so the buffer must be
  // aligned for the widest one (8 bytes); realign a misaligned copy.
  std::vector<uint64_t> aligned;
  const uint8_t* buf = data;
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned.resize((size + sizeof(uint64_t) - 1) / sizeof(uint64_t));
    std::memcpy(aligned.data(), data, size);
    buf = reinterpret_cast<const uint8_t*>(aligned.data());
  }
  flatbuffers::Verifier verifier(buf, size);
  if (!tflite::VerifyModelBuffer(verifier)) {
    throw InvalidInput(source + ": corrupt .tflite (" + Str(size) + " bytes): " + LocateCorruption(buf, size) +
                       " fails flatbuffer verification (an offset or length points outside the buffer, or is "
                       "misaligned, or a string is unterminated)");
  }
  const tflite::Model* model = tflite::GetModel(buf);
  return Reader(*model, buf, size, source).Read();
}

Graph ReadTflite(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileNotFound(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw FileNotFound(path + ": is a directory, not a .tflite file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileNotFound(path + ": cannot open for reading");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw FileNotFound(path + ": read error");
  return ReadTflite(bytes.data(), bytes.size(), path);
}

}  // namespace mcunet
