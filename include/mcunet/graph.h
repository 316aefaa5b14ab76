// Graph: the lowered form of a network, shared by the cost model, the memory
// planners, the .tflite reader/writer and the code generator.
//
// Tensors are NHWC. Activations are int8 unless a .tflite says otherwise
// (e.g. a float32 input feeding QUANTIZE). Constant tensors (weights, biases)
// carry `is_constant`; only non-constant tensors are planned in SRAM.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcunet {

enum class DType : uint8_t { kInt8, kUInt8, kInt16, kInt32, kInt64, kFloat32 };
int DTypeSize(DType t);
std::string_view DTypeName(DType t);

enum class OpKind : uint8_t {
  kConv2D,           // general conv (first conv, k x k)
  kPointwiseConv2D,  // 1x1, stride 1, no padding
  kDepthwiseConv2D,
  kAdd,
  kMean,           // global average pooling as TFLite MEAN over H, W
  kAveragePool2D,  // AVERAGE_POOL_2D
  kFullyConnected,
  kQuantize,
  kDequantize,
  kTranspose,
  kPad,
  kReshape,
  kSoftmax,
};
std::string_view OpKindName(OpKind k);

enum class Activation : uint8_t { kNone, kRelu, kRelu6 };
enum class Padding : uint8_t { kSame, kValid };

struct Shape {
  std::array<int32_t, 4> dims{1, 1, 1, 1};
  int rank = 0;

  int64_t elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  int32_t operator[](int i) const { return dims[i]; }
  bool operator==(const Shape& o) const;
  std::string ToString() const;  // "[1,40,40,48]"
};
Shape MakeShape(std::initializer_list<int32_t> dims);

struct QuantParams {
  std::vector<float> scale;         // one per tensor or one per channel
  std::vector<int64_t> zero_point;  // same length as scale
  int quantized_dimension = 0;
  bool empty() const { return scale.empty(); }
};

struct Tensor {
  std::string name;
  DType dtype = DType::kInt8;
  Shape shape;
  bool is_constant = false;   // weights/bias: lives in Flash, never planned
  std::vector<uint8_t> data;  // constant contents when known (from .tflite)
  QuantParams quant;

  int64_t bytes() const { return shape.elements() * DTypeSize(dtype); }
};

// One operator. `inputs` follow TFLite's order: {data, weights, bias} for
// convolutions and FC, {a, b} for ADD, {data} otherwise; -1 where absent.
struct Op {
  OpKind kind = OpKind::kConv2D;
  std::array<int32_t, 3> inputs{-1, -1, -1};
  int32_t output = -1;

  // Convolution / pooling parameters.
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kSame;
  int pad_top = 0, pad_left = 0;  // resolved from `padding` and shapes
  int depth_multiplier = 1;
  Activation activation = Activation::kNone;

  int64_t macs = 0;
  int source_index = -1;  // operator index in the .tflite this came from

  int num_inputs() const {
    int n = 0;
    for (int32_t t : inputs) n += t >= 0;
    return n;
  }
};

struct Graph {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  // in execution order
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;

  void Clear();  // keeps capacity, for reuse in hot loops
  int32_t AddTensor(DType dtype, Shape shape, bool is_constant = false);

  // Throws InvalidInput if an index is out of range or an op reads a tensor
  // that is neither a graph input, a constant nor produced earlier.
  void Validate() const;
  int64_t TotalMacs() const;
};

}  // namespace mcunet
