#pragma once
// Reading an .onnx file: the protobuf is parsed with bounds checks, and everything the importer relies on is
// checked first, so that a truncated file, a file that is not ONNX, an opset outside the supported range or a graph
// without an image input each give one clear ModelLoadError / UnsupportedModelError, never a crash.
#include <onnx/onnx_pb.h>

#include <map>
#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class OnnxFile {
public:
    /// Opsets of the default domain the importer supports.
    static constexpr int minOpset = 7;
    static constexpr int maxOpset = 17;

    /// Parses and checks the file at `path`. Throws IoError (missing/unreadable), ModelLoadError (empty,
    /// truncated, not ONNX), UnsupportedModelError (opset outside minOpset..maxOpset, no graph).
    static onnx::ModelProto read(const std::string &path);
    /// Parses and checks `size` bytes (what read() does after reading the file; the fuzz target calls this).
    static onnx::ModelProto parse(const void *data, std::size_t size, const std::string &file);

    /// Opset of the default ONNX domain ("" or "ai.onnx"), or 0 when the model imports none.
    static int defaultOpset(const onnx::ModelProto &model);
    /// Whether the first bytes of a file look like an ONNX model (a protobuf whose first field is ir_version),
    /// for telling .onnx files from TorchScript archives without trusting the extension.
    static bool looksLikeOnnx(const std::string &path);
    /// The declared shape of the graph's first input that is not an initializer (the image), in N×C×H×W order: -1
    /// for a symbolic dimension; empty when the graph declares none. A channels-last input that the graph
    /// transposes first thing (isChannelsLastImage) is reported as the importer takes it, channels first.
    static std::vector<std::int64_t> imageInputShape(const onnx::ModelProto &model);
    /// Whether the graph input `name` is a channels-last image (N×H×W×C) that every node using it transposes to
    /// N×C×H×W (Transpose, perm 0,3,1,2) — how tf2onnx writes Keras/TensorFlow models.
    static bool isChannelsLastImage(const onnx::ModelProto &model, const std::string &name);
    /// Producer, opset, IR version, doc string and metadata_props, for `convscope info`.
    static std::map<std::string, std::string> describe(const onnx::ModelProto &model);
};

} // namespace convscope
