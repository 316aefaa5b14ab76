// .tflite writer: mcunet Graph -> TFLite flatbuffer (schema version 3).
#include "mcunet/tflite_writer.h"

#include <flatbuffers/flatbuffers.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mcunet/error.h"
#include "tflite_schema_generated.h"

namespace mcunet {

namespace {

namespace tfl = tflite;
using flatbuffers::Offset;

std::string Str(int64_t v) { return std::to_string(v); }

// "<name>" or "t<index>" for a tensor without a name.
std::string BaseName(const std::string& name, int64_t index) {
  if (!name.empty()) return name;
  std::string s = "t";
  s += std::to_string(index);
  return s;
}

tfl::TensorType ToTensorType(DType t) {
  switch (t) {
    case DType::kInt8: return tfl::TensorType::INT8;
    case DType::kUInt8: return tfl::TensorType::UINT8;
    case DType::kInt16: return tfl::TensorType::INT16;
    case DType::kInt32: return tfl::TensorType::INT32;
    case DType::kInt64: return tfl::TensorType::INT64;
    case DType::kFloat32: return tfl::TensorType::FLOAT32;
  }
  return tfl::TensorType::INT8;
}

tfl::ActivationFunctionType ToActivation(Activation a) {
  switch (a) {
    case Activation::kNone: return tfl::ActivationFunctionType::NONE;
    case Activation::kRelu: return tfl::ActivationFunctionType::RELU;
    case Activation::kRelu6: return tfl::ActivationFunctionType::RELU6;
  }
  return tfl::ActivationFunctionType::NONE;
}

// A tensor to write: graph tensors keep their index; the writer appends
// MEAN axes, PAD paddings, PAD outputs and the float I/O tensors.
struct OutTensor {
  std::string name;
  DType dtype = DType::kInt8;
  std::vector<int32_t> shape;
  std::vector<uint8_t> data;  // constant contents (empty: activation)
  QuantParams quant;
};

struct OutOp {
  tfl::BuiltinOperator code = tfl::BuiltinOperator::ADD;
  int version = 1;
  std::vector<int32_t> inputs, outputs;
  // Options, by kind.
  const Op* op = nullptr;  // the graph op (nullptr for added PAD / QUANTIZE / DEQUANTIZE)
  Padding padding = Padding::kSame;
};

class Writer {
 public:
  Writer(const Graph& g, const TfliteWriteOptions& o) : g_(g), o_(o) {}

  std::vector<uint8_t> Write() {
    g_.Validate();
    for (const Tensor& t : g_.tensors) tensors_.push_back(FromGraph(t));
    std::vector<int32_t> inputs = g_.inputs, outputs = g_.outputs;
    if (o_.float_io) {
      for (int32_t& in : inputs) {
        const int32_t f = AddFloatTwin(in, "_f32");
        ops_.push_back(OutOp{tfl::BuiltinOperator::QUANTIZE, 2, {f}, {in}});
        in = f;
      }
    }
    for (size_t k = 0; k < g_.ops.size(); ++k) AddOp(static_cast<int>(k), g_.ops[k]);
    if (o_.float_io) {
      for (int32_t& out : outputs) {
        const int32_t f = AddFloatTwin(out, "_f32");
        ops_.push_back(OutOp{tfl::BuiltinOperator::DEQUANTIZE, 2, {out}, {f}});
        out = f;
      }
    }
    return Serialize(inputs, outputs);
  }

 private:
  std::string Where(int k, const Op& op) const {
    return "tflite writer: op " + Str(k) + " (" + std::string(OpKindName(op.kind)) + ")";
  }

  static std::vector<int32_t> Dims(const Shape& s) { return std::vector<int32_t>(s.dims.begin(), s.dims.begin() + s.rank); }

  OutTensor FromGraph(const Tensor& t) const {
    OutTensor o;
    o.name = t.name;
    o.dtype = t.dtype;
    o.shape = Dims(t.shape);
    if (t.is_constant) o.data = t.data;
    o.quant = t.quant;
    return o;
  }

  int32_t AddTensor(OutTensor t) {
    tensors_.push_back(std::move(t));
    return static_cast<int32_t>(tensors_.size() - 1);
  }

  int32_t AddFloatTwin(int32_t t, const std::string& suffix) {
    OutTensor f;
    f.name = BaseName(tensors_[t].name, t) + suffix;
    f.dtype = DType::kFloat32;
    f.shape = tensors_[t].shape;
    if (g_.tensors[t].quant.empty()) throw InvalidInput("tflite writer: tensor " + Str(t) + " has no quantisation for float I/O");
    return AddTensor(std::move(f));
  }

  int32_t AddInt32Const(const std::string& name, std::vector<int32_t> shape, const std::vector<int32_t>& values) {
    OutTensor t;
    t.name = name;
    t.dtype = DType::kInt32;
    t.shape = std::move(shape);
    t.data.resize(values.size() * 4);
    std::memcpy(t.data.data(), values.data(), t.data.size());
    return AddTensor(std::move(t));
  }

  void CheckQuantized(int k, const Op& op, int32_t t, const char* what) const {
    if (t >= 0 && g_.tensors[t].quant.empty() && g_.tensors[t].dtype != DType::kFloat32) {
      throw InvalidInput(Where(k, op) + ": " + what + " tensor " + Str(t) + " '" + g_.tensors[t].name +
                         "' has no quantisation parameters");
    }
  }

  void CheckWeights(int k, const Op& op) const {
    for (int i : {1, 2}) {
      const int32_t t = op.inputs[i];
      if (t < 0) continue;
      const Tensor& w = g_.tensors[t];
      if (!w.is_constant || static_cast<int64_t>(w.data.size()) != w.bytes()) {
        throw InvalidInput(Where(k, op) + ": " + (i == 1 ? "weights" : "bias") + " tensor " + Str(t) + " '" + w.name +
                           "' holds " + Str(w.data.size()) + " of " + Str(w.bytes()) + " bytes of data");
      }
    }
    if (op.inputs[1] < 0) throw InvalidInput(Where(k, op) + " has no weights");
  }

  // TFLite's padding for `padding` on one axis (ResolveAxis of the reader).
  static int SamePad(int in, int out, int kernel, int stride, int dilation) {
    const int eff = (kernel - 1) * dilation + 1;
    return std::max((out - 1) * stride + eff - in, 0) / 2;
  }

  // Chooses SAME / VALID for a conv or pool, or inserts a PAD in front of it
  // (returning the new data input) when neither gives op's padding.
  int32_t ResolvePadding(int k, const Op& op, Padding* padding) {
    const Shape& in = g_.tensors[op.inputs[0]].shape;
    const Shape& out = g_.tensors[op.output].shape;
    const int ih = in[1], iw = in[2], oh = out[1], ow = out[2];
    const int eff_h = (op.kernel_h - 1) * op.dilation_h + 1, eff_w = (op.kernel_w - 1) * op.dilation_w + 1;
    const bool same_size = oh == (ih + op.stride_h - 1) / op.stride_h && ow == (iw + op.stride_w - 1) / op.stride_w;
    if (same_size && op.pad_top == SamePad(ih, oh, op.kernel_h, op.stride_h, op.dilation_h) &&
        op.pad_left == SamePad(iw, ow, op.kernel_w, op.stride_w, op.dilation_w)) {
      *padding = Padding::kSame;
      return op.inputs[0];
    }
    auto valid = [](int in_size, int eff, int stride) { return in_size >= eff ? (in_size - eff) / stride + 1 : -1; };
    if (op.pad_top == 0 && op.pad_left == 0 && oh == valid(ih, eff_h, op.stride_h) && ow == valid(iw, eff_w, op.stride_w)) {
      *padding = Padding::kValid;
      return op.inputs[0];
    }
    if (op.kind == OpKind::kAveragePool2D) {
      throw InvalidInput(Where(k, op) + ": padding " + Str(op.pad_top) + "/" + Str(op.pad_left) +
                         " is neither SAME nor VALID, and a pool cannot take an explicit PAD");
    }
    // Explicit PAD, then VALID.
    const int pb = std::max((oh - 1) * op.stride_h + eff_h - ih - op.pad_top, 0);
    const int pr = std::max((ow - 1) * op.stride_w + eff_w - iw - op.pad_left, 0);
    const int ph = ih + op.pad_top + pb, pw = iw + op.pad_left + pr;
    if (valid(ph, eff_h, op.stride_h) != oh || valid(pw, eff_w, op.stride_w) != ow) {
      throw InvalidInput(Where(k, op) + ": padding " + Str(op.pad_top) + "/" + Str(op.pad_left) + " with input " +
                         in.ToString() + " cannot give output " + out.ToString());
    }
    const Tensor& src = g_.tensors[op.inputs[0]];
    const std::string base = BaseName(src.name, op.inputs[0]);
    const int32_t paddings = AddInt32Const(base + "/paddings",
                                           {4, 2}, {0, 0, op.pad_top, pb, op.pad_left, pr, 0, 0});
    OutTensor padded;
    padded.name = base + "/padded" + Str(k);
    padded.dtype = src.dtype;
    padded.shape = {in[0], ph, pw, in[3]};
    padded.quant = src.quant;  // PAD keeps scale and zero point; pads with the zero point
    const int32_t p = AddTensor(std::move(padded));
    ops_.push_back(OutOp{tfl::BuiltinOperator::PAD, 2, {op.inputs[0], paddings}, {p}});
    *padding = Padding::kValid;
    return p;
  }

  void AddOp(int k, const Op& op) {
    OutOp o;
    o.op = &op;
    o.outputs = {op.output};
    for (int32_t t : op.inputs) {
      if (t >= 0) o.inputs.push_back(t);
    }
    CheckQuantized(k, op, op.inputs[0], "input");
    CheckQuantized(k, op, op.output, "output");
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kPointwiseConv2D:
      case OpKind::kDepthwiseConv2D: {
        CheckWeights(k, op);
        const bool dw = op.kind == OpKind::kDepthwiseConv2D;
        o.code = dw ? tfl::BuiltinOperator::DEPTHWISE_CONV_2D : tfl::BuiltinOperator::CONV_2D;
        o.version = 3;  // int8 per-channel
        o.inputs = {ResolvePadding(k, op, &o.padding), op.inputs[1]};
        if (op.inputs[2] >= 0) o.inputs.push_back(op.inputs[2]);
        break;
      }
      case OpKind::kFullyConnected:
        CheckWeights(k, op);
        o.code = tfl::BuiltinOperator::FULLY_CONNECTED;
        o.version = 4;
        break;
      case OpKind::kAdd:
        o.code = tfl::BuiltinOperator::ADD;
        o.version = 2;
        break;
      case OpKind::kMean: {
        o.code = tfl::BuiltinOperator::MEAN;
        o.version = 2;
        if (op.inputs[1] < 0) {
          const Shape& in = g_.tensors[op.inputs[0]].shape;
          if (in.rank != 4) throw InvalidInput(Where(k, op) + ": input " + in.ToString() + " should have rank 4");
          const std::string& n = g_.tensors[op.output].name;
          o.inputs = {op.inputs[0], AddInt32Const(BaseName(n, op.output) + "/axes", {2}, {1, 2})};
        }
        break;
      }
      case OpKind::kAveragePool2D:
        o.code = tfl::BuiltinOperator::AVERAGE_POOL_2D;
        o.version = 2;
        o.inputs = {ResolvePadding(k, op, &o.padding)};
        break;
      case OpKind::kSoftmax:
        o.code = tfl::BuiltinOperator::SOFTMAX;
        o.version = 2;
        break;
      case OpKind::kReshape: o.code = tfl::BuiltinOperator::RESHAPE; break;
      case OpKind::kPad:
        o.code = tfl::BuiltinOperator::PAD;
        o.version = 2;
        break;
      case OpKind::kTranspose:
        o.code = tfl::BuiltinOperator::TRANSPOSE;
        o.version = 2;
        break;
      case OpKind::kQuantize:
        o.code = tfl::BuiltinOperator::QUANTIZE;
        o.version = 2;
        break;
      case OpKind::kDequantize:
        o.code = tfl::BuiltinOperator::DEQUANTIZE;
        o.version = 2;
        break;
    }
    ops_.push_back(std::move(o));
  }

  std::pair<tfl::BuiltinOptions, Offset<void>> Options(flatbuffers::FlatBufferBuilder& b, const OutOp& o) const {
    const tfl::Padding pad = o.padding == Padding::kValid ? tfl::Padding::VALID : tfl::Padding::SAME;
    const Op* op = o.op;
    switch (o.code) {
      case tfl::BuiltinOperator::CONV_2D:
        return {tfl::BuiltinOptions::Conv2DOptions,
                tfl::CreateConv2DOptions(b, pad, op->stride_w, op->stride_h, ToActivation(op->activation),
                                         op->dilation_w, op->dilation_h)
                    .Union()};
      case tfl::BuiltinOperator::DEPTHWISE_CONV_2D:
        return {tfl::BuiltinOptions::DepthwiseConv2DOptions,
                tfl::CreateDepthwiseConv2DOptions(b, pad, op->stride_w, op->stride_h, op->depth_multiplier,
                                                  ToActivation(op->activation), op->dilation_w, op->dilation_h)
                    .Union()};
      case tfl::BuiltinOperator::AVERAGE_POOL_2D:
        return {tfl::BuiltinOptions::Pool2DOptions,
                tfl::CreatePool2DOptions(b, pad, op->stride_w, op->stride_h, op->kernel_w, op->kernel_h,
                                         ToActivation(op->activation))
                    .Union()};
      case tfl::BuiltinOperator::FULLY_CONNECTED:
        return {tfl::BuiltinOptions::FullyConnectedOptions,
                tfl::CreateFullyConnectedOptions(b, ToActivation(op->activation)).Union()};
      case tfl::BuiltinOperator::ADD:
        return {tfl::BuiltinOptions::AddOptions, tfl::CreateAddOptions(b, ToActivation(op->activation)).Union()};
      case tfl::BuiltinOperator::MEAN:
        return {tfl::BuiltinOptions::ReducerOptions, tfl::CreateReducerOptions(b, false).Union()};
      case tfl::BuiltinOperator::SOFTMAX:
        return {tfl::BuiltinOptions::SoftmaxOptions, tfl::CreateSoftmaxOptions(b, 1.0f).Union()};
      case tfl::BuiltinOperator::RESHAPE: {
        const std::vector<int32_t>& s = tensors_[o.outputs[0]].shape;
        return {tfl::BuiltinOptions::ReshapeOptions, tfl::CreateReshapeOptions(b, b.CreateVector(s)).Union()};
      }
      case tfl::BuiltinOperator::PAD:
        return {tfl::BuiltinOptions::PadOptions, tfl::CreatePadOptions(b).Union()};
      case tfl::BuiltinOperator::TRANSPOSE:
        return {tfl::BuiltinOptions::TransposeOptions, tfl::CreateTransposeOptions(b).Union()};
      case tfl::BuiltinOperator::QUANTIZE:
        return {tfl::BuiltinOptions::QuantizeOptions, tfl::CreateQuantizeOptions(b).Union()};
      case tfl::BuiltinOperator::DEQUANTIZE:
        return {tfl::BuiltinOptions::DequantizeOptions, tfl::CreateDequantizeOptions(b).Union()};
      default: return {tfl::BuiltinOptions::NONE, 0};
    }
  }

  std::vector<uint8_t> Serialize(const std::vector<int32_t>& inputs, const std::vector<int32_t>& outputs) {
    flatbuffers::FlatBufferBuilder b(1 << 16);
    // Buffers: 0 is the empty sentinel, then one per constant tensor.
    std::vector<Offset<tfl::Buffer>> buffers{tfl::CreateBuffer(b)};
    std::vector<uint32_t> buffer_of(tensors_.size(), 0);
    for (size_t t = 0; t < tensors_.size(); ++t) {
      if (tensors_[t].data.empty()) continue;
      b.ForceVectorAlignment(tensors_[t].data.size(), sizeof(uint8_t), 16);
      const auto data = b.CreateVector(tensors_[t].data);
      buffer_of[t] = static_cast<uint32_t>(buffers.size());
      buffers.push_back(tfl::CreateBuffer(b, data));
    }
    std::vector<Offset<tfl::Tensor>> tensors;
    for (size_t t = 0; t < tensors_.size(); ++t) {
      const OutTensor& ot = tensors_[t];
      Offset<tfl::QuantizationParameters> q = 0;
      if (!ot.quant.empty()) {
        q = tfl::CreateQuantizationParameters(b, 0, 0, b.CreateVector(ot.quant.scale),
                                              b.CreateVector(ot.quant.zero_point), tfl::QuantizationDetails::NONE, 0,
                                              ot.quant.quantized_dimension);
      }
      const std::string name = ot.name.empty() ? "tensor_" + Str(t) : ot.name;
      tensors.push_back(tfl::CreateTensor(b, b.CreateVector(ot.shape), ToTensorType(ot.dtype), buffer_of[t],
                                          b.CreateString(name), q));
    }
    // Operator codes in order of first use.
    std::vector<std::pair<tfl::BuiltinOperator, int>> codes;
    std::vector<Offset<tfl::Operator>> operators;
    for (const OutOp& o : ops_) {
      const std::pair<tfl::BuiltinOperator, int> key{o.code, o.version};
      auto it = std::find(codes.begin(), codes.end(), key);
      if (it == codes.end()) it = codes.insert(codes.end(), key);
      const auto [type, options] = Options(b, o);
      operators.push_back(tfl::CreateOperator(b, static_cast<uint32_t>(it - codes.begin()), b.CreateVector(o.inputs),
                                              b.CreateVector(o.outputs), type, options));
    }
    std::vector<Offset<tfl::OperatorCode>> opcodes;
    for (const auto& [code, version] : codes) {
      const int32_t c = static_cast<int32_t>(code);
      opcodes.push_back(tfl::CreateOperatorCode(b, static_cast<int8_t>(std::min(c, 127)), 0, version, code));
    }
    const auto subgraph = tfl::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(inputs),
                                              b.CreateVector(outputs), b.CreateVector(operators),
                                              b.CreateString(g_.name.empty() ? "main" : g_.name));
    const auto model = tfl::CreateModel(b, 3, b.CreateVector(opcodes), b.CreateVector(&subgraph, 1),
                                        b.CreateString(o_.description), b.CreateVector(buffers));
    tfl::FinishModelBuffer(b, model);
    spdlog::debug("tflite writer: {} tensors, {} ops, {} bytes", tensors_.size(), ops_.size(), b.GetSize());
    return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  }

  const Graph& g_;
  const TfliteWriteOptions& o_;
  std::vector<OutTensor> tensors_;
  std::vector<OutOp> ops_;
};

}  // namespace

std::vector<uint8_t> WriteTflite(const Graph& graph, const TfliteWriteOptions& options) {
  return Writer(graph, options).Write();
}

void WriteTfliteFile(const Graph& graph, const std::string& path, const TfliteWriteOptions& options) {
  const std::vector<uint8_t> bytes = WriteTflite(graph, options);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw FileNotFound(path + ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw FileNotFound(path + ": write error");
}

}  // namespace mcunet
