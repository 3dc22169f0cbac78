#pragma once
// ONNX TensorProto <-> ATen tensor. Reads every layout an exporter writes: raw_data (little-endian bytes), the typed
// repeated fields (float_data, int32_data for int8/uint8/bool/float16 bits, int64_data, double_data), and external
// data (a file next to the model, with optional offset and length). Sizes are checked against the declared shape
// before anything is copied, so a damaged file gives ModelLoadError, never an out-of-bounds read.
#include <onnx/onnx_pb.h>
#include <torch/types.h>

#include <string>

namespace convscope {

class OnnxTensor {
public:
    /// The tensor held by `proto`. `baseDir` is the model's folder (external data is relative to it); `what`
    /// names the tensor in messages. Throws ModelLoadError (damaged or missing data, unsupported element type).
    static torch::Tensor toTensor(const onnx::TensorProto &proto, const std::string &baseDir, const std::string &what);
    /// `tensor` as a TensorProto named `name` (raw little-endian data), e.g. to tell shape inference a folded value.
    static onnx::TensorProto toProto(const torch::Tensor &tensor, const std::string &name);
    /// ATen dtype of an ONNX element type (TensorProto::DataType), or throws ModelLoadError naming `what`.
    static torch::ScalarType scalarType(int onnxType, const std::string &what);
    /// ONNX element type name ("FLOAT", "INT64"...), for messages.
    static std::string typeName(int onnxType);
};

} // namespace convscope
