#pragma once
// A loaded TorchScript model with its sidecar, layer table and probe. Load once, share (std::shared_ptr<const
// Model>): forward(), predict() and probe().run() may be called from several threads.
#include "model/LayerInfo.h"
#include "model/ModelSidecar.h"
#include "model/Prediction.h"
#include "model/Probe.h"

#include <torch/script.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class Model {
public:
    struct Options {
        std::string sidecar; ///< sidecar JSON to use; empty = look next to the model, else defaults
    };

    /// Loads and checks a model: TorchScript, or ONNX (".onnx", or a file that starts like one), imported into a
    /// TorchScript module. Throws IoError (missing/unreadable file), ModelLoadError (not a model: zero bytes,
    /// truncated, text...), UnsupportedModelError (loads, but takes no image or rejects the input
    /// size), DataError (bad sidecar).
    static std::shared_ptr<const Model> load(const std::string &path, const Options &options);
    static std::shared_ptr<const Model> load(const std::string &path) { return load(path, Options{}); }

    const std::string &path() const { return path_; }
    const ModelSidecar &sidecar() const { return sidecar_; }
    const InputSpec &input() const { return sidecar_.input; }
    const std::vector<LayerInfo> &layers() const { return layers_; }
    const Probe &probe() const { return *probe_; }
    const torch::jit::Module &module() const { return module_; }
    /// "TorchScript" or "ONNX" (imported into a TorchScript module at load time, see OnnxImporter).
    const std::string &format() const { return format_; }
    /// For ONNX: producer, opset, IR version, doc string, metadata_props, node counts (for `convscope info`).
    const std::map<std::string, std::string> &formatDetails() const { return formatDetails_; }
    /// Number of classes of the model's output (0 when the output is not N×classes).
    int numClasses() const { return numClasses_; }
    /// Class name for an output index (sidecar label or "class i").
    std::string label(int classIndex) const;

    /// The layer called `name`: a path ("features.conv1", "layer1.0.relu#2"), a friendly name from the sidecar,
    /// or a 0-based index. Throws UsageError listing close names.
    const LayerInfo &layer(const std::string &name) const;

    /// Plain forward pass (no autograd) of an N×C×H×W batch; returns the logits (first tensor of the output).
    torch::Tensor forward(const torch::Tensor &batch) const;

    /// Top-k predictions per image of a batch.
    std::vector<std::vector<Prediction>> predict(const torch::Tensor &batch, int k) const;
    std::vector<std::vector<Prediction>> topK(const torch::Tensor &logits, int k) const;

    /// Multiply-adds and parameters summed by cost category over leaf calls ("Conv 1x1", "Linear"...),
    /// largest first. Parameters of a module called several times are counted once.
    struct CostRow {
        std::string category;
        std::int64_t macs = 0;
        std::int64_t params = 0;
        int calls = 0;
    };
    std::vector<CostRow> costSummary() const;

    /// First tensor of a model output (a tensor, or the first tensor in a tuple/list/dict).
    static torch::Tensor firstTensor(const c10::IValue &output);

private:
    Model() = default;
    std::string path_;
    std::string format_ = "TorchScript";
    std::map<std::string, std::string> formatDetails_;
    torch::jit::Module module_;
    ModelSidecar sidecar_;
    std::unique_ptr<Probe> probe_;
    std::vector<LayerInfo> layers_;
    int numClasses_ = 0;
};

} // namespace convscope
