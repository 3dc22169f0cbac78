#include "model/Model.h"

#include "common/Error.h"
#include "model/LayerListBuilder.h"
#include "model/ModelArchive.h"
#include "model/ReceptiveFieldAnalyzer.h"
#include "model/ModulePath.h"
#include "common/TextFormat.h"
#include "import/OnnxFile.h"
#include "import/OnnxImporter.h"

#include <QFileInfo>

#include <algorithm>
#include <fstream>
#include <map>

namespace convscope {

namespace {

bool isOnnxFile(const std::string &path)
{
    const QString suffix = QFileInfo(QString::fromStdString(path)).suffix().toLower();
    return suffix == "onnx" || (suffix != "pt" && suffix != "pth" && OnnxFile::looksLikeOnnx(path));
}

void checkFile(const std::string &path, bool onnx)
{
    QFileInfo info(QString::fromStdString(path));
    if (!info.exists())
        throw IoError("model file '" + path + "' does not exist");
    if (!info.isFile())
        throw IoError("'" + path + "' is not a file");
    if (!info.isReadable())
        throw IoError("model file '" + path + "' is not readable");
    if (info.size() == 0)
        throw ModelLoadError("model file '" + path + "' is empty (0 bytes)");
    if (onnx)
        return; // OnnxFile checks it while parsing
    std::ifstream in(path, std::ios::binary);
    char magic[2] = {0, 0};
    in.read(magic, 2);
    if (magic[0] != 'P' || magic[1] != 'K')
        throw ModelLoadError("'" + path + "' is not a TorchScript model (expected the zip archive written by "
                             "torch.jit.save; state_dicts and pickled models cannot be opened)");
    // LibTorch trusts the archive: a damaged one gives an obscure message or crashes it. Reject it here first.
    ModelArchive::checkFile(path);
}

/// Input channels from the first conv-like call's weight (N×C×k×k), or 0 when unknown.
int inputChannels(const torch::jit::Module &root, const Probe &probe)
{
    for (const auto &c : probe.calls()) {
        if (c.hasChildren)
            continue;
        auto m = ModulePath::find(root, c.modulePath);
        if (!m)
            continue;
        torch::Tensor w = ModulePath::tensorAttribute(*m, "weight");
        if (w.defined() && w.dim() == 4 && c.type.find("Conv") != std::string::npos)
            return static_cast<int>(c.type.find("Transpose") != std::string::npos ? w.size(0) : w.size(1));
        if (w.defined() && w.dim() >= 2)
            return 0; // a linear layer first: not an image model we can infer
    }
    return 0;
}

void checkForwardSignature(const torch::jit::Module &module)
{
    auto forward = module.find_method("forward");
    if (!forward)
        throw UnsupportedModelError("the model has no forward() method");
    const auto &args = forward->function().getSchema().arguments();
    if (args.size() < 2)
        throw UnsupportedModelError("the model's forward() takes no input");
    const auto &first = args[1];
    if (!first.type()->isSubtypeOf(*c10::TensorType::get()))
        throw UnsupportedModelError("the model's forward() takes " + first.type()->annotation_str() +
                                    ", not an image tensor");
    for (size_t i = 2; i < args.size(); ++i)
        if (!args[i].default_value())
            throw UnsupportedModelError("the model's forward() needs " + std::to_string(args.size() - 1) +
                                        " inputs; Convscope feeds one image tensor");
}

/// "'name' ?×224×224×3" for a message about the image input (`shape` as declared, -1 = symbolic).
std::string onnxInputDescription(const onnx::ModelProto &proto, const std::vector<std::int64_t> &shape)
{
    std::string name;
    for (const auto &in : proto.graph().input()) {
        bool initializer = false;
        for (const auto &t : proto.graph().initializer())
            initializer = initializer || t.name() == in.name();
        if (!initializer) {
            name = in.name();
            break;
        }
    }
    std::string dims;
    for (auto d : shape)
        dims += (dims.empty() ? "" : "×") + (d > 0 ? std::to_string(d) : std::string("?"));
    return "'" + name + "' " + dims;
}

} // namespace

torch::Tensor Model::firstTensor(const c10::IValue &output)
{
    if (output.isTensor())
        return output.toTensor();
    if (output.isTuple()) {
        for (const auto &e : output.toTupleRef().elements())
            if (e.isTensor())
                return e.toTensor();
    } else if (output.isList()) {
        for (const auto &e : output.toListRef())
            if (e.isTensor())
                return e.toTensor();
    } else if (output.isGenericDict()) {
        auto dict = output.toGenericDict();
        for (const auto &key : {"out", "logits"})
            if (dict.contains(key) && dict.at(key).isTensor())
                return dict.at(key).toTensor();
        for (const auto &e : dict)
            if (e.value().isTensor())
                return e.value().toTensor();
    }
    throw UnsupportedModelError("the model returns " + output.tagKind() + ", which holds no tensor");
}

std::shared_ptr<const Model> Model::load(const std::string &path, const Options &options)
{
    const bool onnx = isOnnxFile(path);
    checkFile(path, onnx);
    std::shared_ptr<Model> model(new Model());
    model->path_ = QFileInfo(QString::fromStdString(path)).absoluteFilePath().toStdString();
    std::string sidecarPath = options.sidecar.empty() ? ModelSidecar::findFor(path) : options.sidecar;
    int channels = 0;
    if (onnx) {
        // The input's declared shape gives channels and, when fixed, the size; the sidecar may override both.
        const onnx::ModelProto proto = OnnxFile::read(path);
        const std::vector<std::int64_t> shape = OnnxFile::imageInputShape(proto);
        if (shape.size() == 4 && (shape[3] == 1 || shape[3] == 3) && shape[1] > 4)
            throw UnsupportedModelError(
                "the ONNX model takes channels-last images (N×H×W×C: " + onnxInputDescription(proto, shape) +
                ") and does not transpose them to N×C×H×W first thing; Convscope feeds N×C×H×W images (export the "
                "model with a channels-first input, or with the transpose as the input's only use)");
        channels = shape.size() == 4 && shape[1] > 0 ? static_cast<int>(shape[1]) : 3;
        model->sidecar_ = sidecarPath.empty() ? ModelSidecar::defaults(channels == 1 ? 1 : 3)
                                              : ModelSidecar::load(sidecarPath, channels == 1 ? 1 : 3);
        if (sidecarPath.empty() && shape.size() == 4 && shape[2] > 0 && shape[3] > 0) {
            InputSpec &in = model->sidecar_.input;
            in.height = static_cast<int>(shape[2]);
            in.width = static_cast<int>(shape[3]);
            // The centre crop keeps ImageNet's proportion (256 for 224) at the declared size, not a 256 px image
            // cut down to its middle 64 px for a 64×64 input.
            in.resizeTo = std::max(in.width, in.height) * 8 / 7;
            if (in.channels == 3)
                model->sidecar_.notes = {"no sidecar: assuming ImageNet preprocessing at the ONNX input's " +
                                         std::to_string(in.width) + "×" + std::to_string(in.height) + " (resize " +
                                         std::to_string(in.resizeTo) + ", centre crop, ImageNet mean/std)"};
        }
        OnnxImporter::Options importOptions;
        importOptions.height = model->sidecar_.input.height;
        importOptions.width = model->sidecar_.input.width;
        auto imported = OnnxImporter::importModel(proto, QFileInfo(QString::fromStdString(path)).absolutePath().toStdString(),
                                                  importOptions);
        if (imported.inputNames.size() != 1)
            throw UnsupportedModelError("the ONNX model takes " + std::to_string(imported.inputNames.size()) +
                                        " inputs; Convscope feeds one image tensor");
        model->module_ = imported.module;
        model->format_ = "ONNX";
        model->formatDetails_ = imported.description;
        model->formatDetails_["nodes"] = std::to_string(imported.nodes) + " (" + std::to_string(imported.folded) +
                                         " folded at load time)";
    } else {
        try {
            model->module_ = torch::jit::load(path, torch::kCPU);
        } catch (const std::exception &e) {
            throw ModelLoadError("cannot open model '" + path + "': " + firstLine(e.what()));
        }
    }
    model->module_.eval();
    checkForwardSignature(model->module_);
    model->probe_ = std::make_unique<Probe>(model->module_);

    if (!onnx) {
        channels = inputChannels(model->module_, *model->probe_);
        model->sidecar_ = sidecarPath.empty() ? ModelSidecar::defaults(channels == 1 ? 1 : 3)
                                              : ModelSidecar::load(sidecarPath, channels == 1 ? 1 : 3);
    }
    const InputSpec &in = model->sidecar_.input;
    if (channels > 0 && channels != in.channels)
        throw UnsupportedModelError("the model's first layer takes " + std::to_string(channels) +
                                    " channels but the sidecar says " + std::to_string(in.channels));

    // One pass at the input size gives every layer's output shape and checks the model accepts images at all.
    torch::Tensor probeInput = torch::zeros({1, in.channels, in.height, in.width});
    Probe::Output out;
    try {
        out = model->probe_->run(probeInput, model->probe_->capturable());
    } catch (const UnsupportedModelError &e) {
        const std::string what = e.what();
        const auto colon = what.find(": ");
        throw UnsupportedModelError(std::string("the model does not take a ") + shapeString(probeInput.sizes()) +
                                    " image (" +
                                    (model->sidecar_.path.empty() ? "default input size; add a sidecar JSON"
                                                                  : "size from the sidecar") +
                                    "): " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    }
    std::vector<torch::Tensor> captured(model->probe_->calls().size());
    auto capturable = model->probe_->capturable();
    for (size_t k = 0; k < capturable.size(); ++k)
        captured[capturable[k]] = out.captured[k];
    model->layers_ = LayerListBuilder::build(model->module_, *model->probe_, captured, model->sidecar_);
    const auto fields = ReceptiveFieldAnalyzer(model->module_, model->probe_->probeGraph(), in.height, in.width).analyze();
    for (auto &layer : model->layers_)
        layer.field = fields.at(static_cast<size_t>(layer.index));

    torch::Tensor logits = firstTensor(out.modelOutput);
    model->numClasses_ = logits.dim() == 2 ? static_cast<int>(logits.size(1)) : 0;
    if (model->numClasses_ > 0 && !model->sidecar_.labels.empty() &&
        static_cast<int>(model->sidecar_.labels.size()) != model->numClasses_)
        model->sidecar_.notes.push_back("the sidecar names " + std::to_string(model->sidecar_.labels.size()) +
                                        " classes but the model outputs " + std::to_string(model->numClasses_));
    return model;
}

std::string Model::label(int classIndex) const
{
    if (classIndex >= 0 && classIndex < static_cast<int>(sidecar_.labels.size()))
        return sidecar_.labels[classIndex];
    return "class " + std::to_string(classIndex);
}

const LayerInfo &Model::layer(const std::string &name) const
{
    if (name.find_first_not_of(" \t") == std::string::npos) { // "" is no layer (it used to match one without a
                                                               // friendly name)
        std::string some;
        for (const auto &l : layers_)
            if (l.capturable && some.size() < 160)
                some += (some.empty() ? "" : ", ") + l.path;
        throw UsageError("a layer name is needed (a path, a friendly name or an index from `convscope info`), "
                         "e.g. " + some);
    }
    for (const auto &l : layers_)
        if (l.path == name)
            return l;
    for (const auto &l : layers_)
        if (!l.displayName.empty() && l.displayName == name)
            return l;
    for (const auto &l : layers_) // a module called several times: its first call
        if (l.modulePath == name)
            return l;
    const LayerInfo *bySuffix = nullptr; // "conv2" for "features.conv2", when only one layer ends that way
    int suffixMatches = 0;
    for (const auto &l : layers_) {
        const std::string &p = l.path;
        if (p.size() > name.size() && p.compare(p.size() - name.size(), name.size(), name) == 0 &&
            p[p.size() - name.size() - 1] == '.') {
            bySuffix = &l;
            ++suffixMatches;
        }
    }
    if (suffixMatches == 1)
        return *bySuffix;
    if (suffixMatches > 1) {
        std::string candidates;
        for (const auto &l : layers_) {
            const std::string &p = l.path;
            if (p.size() > name.size() && p.compare(p.size() - name.size(), name.size(), name) == 0 &&
                p[p.size() - name.size() - 1] == '.' && candidates.size() < 300)
                candidates += (candidates.empty() ? "" : ", ") + p;
        }
        throw UsageError("the layer name '" + name + "' is ambiguous: " + candidates);
    }
    if (!name.empty() && name.size() < 9 && std::all_of(name.begin(), name.end(), ::isdigit)) {
        size_t i = std::stoul(name);
        if (i < layers_.size())
            return layers_[i];
    }
    std::string close;
    for (const auto &l : layers_)
        if (l.path.find(name) != std::string::npos && close.size() < 200)
            close += (close.empty() ? "" : ", ") + l.path;
    throw UsageError("the model has no layer '" + name + "'" +
                     (close.empty() ? " (see `convscope info` for the list)" : "; did you mean: " + close));
}

torch::Tensor Model::forward(const torch::Tensor &batch) const
{
    torch::NoGradGuard noGrad;
    try {
        auto module = module_; // shallow handle copy: forward() is not const in the API
        return firstTensor(module.forward({batch}));
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw UnsupportedModelError("the model rejected an input of shape " + shapeString(batch.sizes()) + ": " +
                                    firstLine(e.what()));
    }
}

std::vector<std::vector<Prediction>> Model::topK(const torch::Tensor &logits, int k) const
{
    if (logits.dim() != 2 || logits.size(1) == 0)
        throw UnsupportedModelError("the model's output has shape " + shapeString(logits.sizes()) +
                                    ", not images × classes: no class predictions");
    k = std::max(1, std::min<int>(k, static_cast<int>(logits.size(1))));
    torch::Tensor probs = torch::softmax(logits.to(torch::kFloat), 1);
    auto [values, indices] = probs.topk(k, 1);
    std::vector<std::vector<Prediction>> result(static_cast<size_t>(logits.size(0)));
    for (int64_t n = 0; n < logits.size(0); ++n)
        for (int j = 0; j < k; ++j) {
            Prediction p;
            p.classIndex = static_cast<int>(indices[n][j].item<int64_t>());
            p.label = label(p.classIndex);
            p.probability = values[n][j].item<float>();
            p.logit = logits[n][p.classIndex].item<float>();
            result[n].push_back(p);
        }
    return result;
}

std::vector<std::vector<Prediction>> Model::predict(const torch::Tensor &batch, int k) const
{
    return topK(forward(batch), k);
}

std::vector<Model::CostRow> Model::costSummary() const
{
    std::map<std::string, CostRow> rows;
    std::map<std::string, bool> counted;
    for (const auto &l : layers_) {
        if (l.kind == LayerKind::Block)
            continue;
        CostRow &r = rows[l.category];
        r.category = l.category;
        r.macs += l.macs;
        ++r.calls;
        if (!counted[l.modulePath]) {
            counted[l.modulePath] = true;
            r.params += l.params;
        }
    }
    std::vector<CostRow> out;
    for (auto &[k, r] : rows)
        out.push_back(r);
    std::sort(out.begin(), out.end(), [](const CostRow &a, const CostRow &b) {
        return a.macs != b.macs ? a.macs > b.macs : a.params > b.params;
    });
    return out;
}

} // namespace convscope
