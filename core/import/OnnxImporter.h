#pragma once
// Turns an ONNX model into an ordinary TorchScript module, so that every capability of Convscope runs on it
// unchanged (no second engine).
//
// How: constant computations are folded (initializers, Constant nodes, and the Shape → Gather → Concat chains
// exporters write for reshapes, evaluated with the shapes ONNX shape inference gives at load time); the remaining
// nodes are grouped into a module tree following the exporter's scope names (PyTorch writes
// "/layer1/layer1.0/conv1/Conv", which becomes the module layer1.0.conv1 inside layer1.0 inside layer1; a second call
// of a module, "relu_1" beside "relu", calls the same module again). A scope's module computes the scope's nodes and
// returns the values it hands on, so a block's output is exactly what PyTorch's forward hook on that block sees.
// Nodes a user would call layers (OnnxOperators::isLayer) that share a scope with other nodes get a module of their
// own named after the node. Every module's forward() is TorchScript source written by OnnxOperators and compiled
// with Module::define; weights are registered as the modules' parameters ("weight", "bias", "running_mean"...).
//
// Exporters fold batch normalisation into the preceding convolution: a Conv module's output is then conv+BN.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <map>
#include <string>
#include <vector>

namespace convscope {

class OnnxImporter {
public:
    struct Options {
        /// Spatial size assumed for symbolic (dynamic) height/width of the input while shapes are folded
        /// (0 = 224). A model whose input size is fixed in the file ignores it.
        int height = 0, width = 0;
    };

    struct Result {
        torch::jit::Module module;
        std::vector<std::string> inputNames;                ///< the graph's inputs (initializers excluded)
        std::vector<std::vector<std::int64_t>> inputShapes; ///< as declared; -1 for a symbolic dimension
        std::map<std::string, std::string> description;     ///< OnnxFile::describe
        int nodes = 0;                                      ///< nodes in the file
        int folded = 0;                                     ///< nodes evaluated at load time
        std::map<std::string, int> opCounts;                ///< op type -> nodes computed at run time
    };

    /// Reads and imports the file at `path` (external data is looked up next to it). Throws IoError,
    /// ModelLoadError (not ONNX, damaged, missing external data) and UnsupportedModelError (opset out of range,
    /// unsupported operators: one message naming every unsupported op type and a node of each).
    static Result importFile(const std::string &path, const Options &options);
    static Result importFile(const std::string &path) { return importFile(path, Options{}); }
    /// Imports a parsed model; `baseDir` is where external data files are looked up.
    static Result importModel(const onnx::ModelProto &model, const std::string &baseDir, const Options &options);
};

} // namespace convscope
