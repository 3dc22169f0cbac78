#pragma once
// What the pieces of the ONNX importer share while one graph is turned into TorchScript: the values known at load
// time (initializers and folded computations), the shapes ONNX shape inference gave every value, and which values
// the remaining computation uses.
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace convscope {

/// Shape and element type of one graph value, as ONNX shape inference found them.
struct OnnxValueInfo {
    std::vector<std::int64_t> shape; ///< -1 for an unknown dimension
    bool known = false;              ///< every dimension is known
    int elementType = 0;             ///< TensorProto::DataType, 0 when unknown
};

using OnnxValueInfos = std::map<std::string, OnnxValueInfo>;
using OnnxConstants = std::map<std::string, torch::Tensor>;

/// What every function context reads: the opset, the constants, the inferred shapes and which values are used.
struct OnnxGraphState {
    int opset = 0;
    std::int64_t exportedBatch = 0;                ///< a batch fixed in the file, 0 when symbolic
    const OnnxConstants *constants = nullptr;
    const OnnxValueInfos *infos = nullptr;
    const std::set<std::string> *needed = nullptr; ///< values consumed by a node or returned (null: all)
};

} // namespace convscope
