// libFuzzer target: an .onnx file through everything Model::load does with it before the engine takes over —
// OnnxFile::parse (protobuf bounds, opset and graph checks), describe() and the image input's shape for `info`,
// then OnnxImporter (If inlining, shape inference and folding, HardSwish fusion, the module tree, TorchScript
// compilation) and one forward pass on a small zero image. ModelLoadError and UnsupportedModelError are the
// accepted outcomes of a bad file; a crash, a sanitizer report, a hang or any other exception out of the reader or
// the importer is a bug. (The forward pass of a graph that imported may fail on the zero image: LibTorch's c10::Error
// there is what Model::load turns into "the model does not take a … image".)
#include "common/Error.h"
#include "import/OnnxFile.h"
#include "import/OnnxImporter.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <cstdlib>
#include <cstdio>

namespace {

/// Keeps one execution cheap: graphs this large are checked by parse() only.
constexpr int maxNodes = 256;
constexpr std::int64_t maxInputElements = 1 << 16;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    at::set_num_threads(1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    onnx::ModelProto model;
    try {
        model = OnnxFile::parse(data, size, "fuzz.onnx");
    } catch (const ModelLoadError &) {
        return 0;
    } catch (const UnsupportedModelError &) {
        return 0;
    }
    (void)OnnxFile::describe(model);
    const auto shape = OnnxFile::imageInputShape(model);
    if (model.graph().node_size() > maxNodes)
        return 0;
    OnnxImporter::Result imported;
    try {
        OnnxImporter::Options options;
        options.height = options.width = 8;
        imported = OnnxImporter::importModel(model, "/nonexistent-fuzz-dir", options);
    } catch (const ModelLoadError &) {
        return 0;
    } catch (const UnsupportedModelError &) {
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "importer threw something other than a Convscope error: %s\n", e.what());
        std::abort();
    }
    if (imported.inputNames.size() != 1 || shape.size() != 4)
        return 0;
    std::vector<std::int64_t> dims = shape;
    std::int64_t elements = 1;
    for (auto &d : dims) {
        d = d > 0 ? d : (&d == &dims[0] ? 1 : 8);
        elements *= d;
        if (elements > maxInputElements)
            return 0;
    }
    try {
        torch::NoGradGuard noGrad;
        (void)imported.module.forward({torch::zeros(dims)});
    } catch (const c10::Error &) {
    } catch (const std::exception &) {
    }
    return 0;
}
