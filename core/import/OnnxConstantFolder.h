#pragma once
// What of an ONNX graph can be computed when the model is loaded: initializers, Constant nodes, and the
// Shape → Gather → Concat chains exporters write for reshapes, evaluated with the shapes ONNX shape inference gives
// for a fixed input size. The importer alternates inferShapes() and fold() until nothing new folds (a folded reshape
// target gives the next Shape its input's shape).
#include "import/OnnxGraphState.h"

#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace convscope {

class OnnxConstantFolder {
public:
    /// `model` without the data of its large initializers (weights): what shape inference needs (names, types,
    /// shapes, and the values of small tensors such as reshape targets), cheap to copy once per inference round.
    static onnx::ModelProto withoutWeights(const onnx::ModelProto &model);
    /// Shapes of every value with the real inputs fixed to `batch` × ... (symbolic height/width set to
    /// `height`/`width`, 0 = 224). `known`: values folded so far, given to shape inference as initializers so that
    /// shapes computed from them (a Reshape's target) are known too. A failing inference leaves shapes unknown.
    static OnnxValueInfos inferShapes(onnx::ModelProto model, const std::set<std::string> &realInputs,
                                      std::int64_t batch, int height, int width, const OnnxConstants &known);
    /// Folds every node of `graph` that can be evaluated at load time and is not in `folded` yet, adding to
    /// `constants` (which starts as the initializers) and `folded` (node indices).
    static void fold(const onnx::GraphProto &graph, OnnxConstants &constants, const OnnxValueInfos &infos,
                     const OnnxGraphState &base, const std::string &baseDir,
                     const std::shared_ptr<torch::jit::CompilationUnit> &cu, std::set<int> &folded);
    /// Evaluates a node whose inputs are all constant by compiling and running it once.
    static std::vector<torch::Tensor> evaluate(const onnx::NodeProto &node, const OnnxGraphState &state,
                                               const std::shared_ptr<torch::jit::CompilationUnit> &cu);
    /// The value a Constant node holds (every value_* attribute form).
    static OnnxConstants nodeConstant(const onnx::NodeProto &node, const std::string &baseDir);
    /// Shape and element type of a declared value.
    static OnnxValueInfo infoOf(const onnx::ValueInfoProto &v);
};

} // namespace convscope
