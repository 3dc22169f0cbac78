#include "cli/ModelCommands.h"

#include "tiles/ActivationMaps.h"
#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "model/AccuracyEvaluator.h"
#include "tiles/FilterWeights.h"
#include "data/ImageReference.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "model/ModelSidecarWriter.h"
#include "model/ModulePath.h"
#include "common/NpyFile.h"
#include "data/Preprocessor.h"
#include "render/TileGridRenderer.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace convscope {

namespace {

using namespace cli;

std::string shapeText(const std::vector<std::int64_t> &shape)
{
    std::string s;
    for (size_t i = 1; i < shape.size(); ++i) // without the batch dimension
        s += (i > 1 ? "x" : "") + std::to_string(shape[i]);
    return s.empty() ? "-" : s;
}

QJsonObject fieldJson(const ReceptiveField &f)
{
    const bool local = f.scope == ReceptiveField::Scope::Local;
    QJsonObject o{{"scope", local ? "local" : "global"}, {"exact", f.exact}, {"text", q(f.describe())}};
    if (local)
        for (auto [axis, a] : {std::pair{"y", f.y}, std::pair{"x", f.x}})
            o.insert(axis, QJsonObject{{"stride", static_cast<qint64>(a.stride)},
                                       {"offset", static_cast<qint64>(a.offset)},
                                       {"size", static_cast<qint64>(a.size)}});
    return o;
}

/// Short column text: "11x11/4", "whole", "whole~" (approximate).
std::string fieldColumn(const ReceptiveField &f)
{
    if (f.scope == ReceptiveField::Scope::Global)
        return f.exact ? "whole" : "whole~";
    return std::to_string(f.y.size) + "x" + std::to_string(f.x.size) + "/" + std::to_string(f.y.stride);
}

QJsonObject layerJson(const LayerInfo &l)
{
    QJsonArray shape;
    for (auto d : l.outputShape)
        shape.append(static_cast<qint64>(d));
    return QJsonObject{{"index", l.index}, {"path", q(l.path)}, {"module", q(l.modulePath)}, {"type", q(l.type)},
                       {"kind", layerKindName(l.kind)}, {"depth", l.depth}, {"parent", l.parent},
                       {"output_shape", shape}, {"params", static_cast<qint64>(l.params)},
                       {"macs", static_cast<qint64>(l.macs)}, {"category", q(l.category)},
                       {"capturable", l.capturable}, {"why_not", q(l.whyNot)}, {"name", q(l.displayName)},
                       {"receptive_field", fieldJson(l.field)}};
}

int cmdInfo(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"json", "Print the layer table, input and cost summary as JSON."});
    p.addOption({"kind", "Show only layers of these kinds (comma separated: conv,linear,activation,pool,norm,"
                         "block,other).", "kinds"});
    if (auto rc = parse(p, args, "Lists every module call of a model in forward order with output shape, "
                                 "parameters and multiply-adds, and sums costs by layer type.", "MODEL", 1, 1))
        return *rc;
    auto model = loadModel(p, p.positionalArguments()[1]);
    const QStringList kinds = p.value("kind").split(',', Qt::SkipEmptyParts);
    const auto &layers = model->layers();
    auto cost = model->costSummary();
    std::int64_t totalMacs = 0, totalParams = ModulePath::parameterCount(model->module());
    for (const auto &c : cost)
        totalMacs += c.macs;
    const InputSpec &in = model->input();
    if (p.isSet("json")) {
        QJsonArray rows, summary;
        for (const auto &l : layers)
            if (kinds.isEmpty() || kinds.contains(layerKindName(l.kind)))
                rows.append(layerJson(l));
        for (const auto &c : cost)
            summary.append(QJsonObject{{"category", q(c.category)}, {"macs", static_cast<qint64>(c.macs)},
                                       {"params", static_cast<qint64>(c.params)}, {"calls", c.calls},
                                       {"macs_share", totalMacs ? double(c.macs) / totalMacs : 0.0}});
        QJsonArray labels;
        for (const auto &lb : model->sidecar().labels)
            labels.append(q(lb));
        QJsonObject details;
        for (const auto &[key, value] : model->formatDetails())
            details.insert(q(key), q(value));
        printJson(QJsonObject{{"model", q(model->path())}, {"name", q(model->sidecar().name)},
                              {"format", q(model->format())}, {"format_details", details},
                              {"input", QJsonObject{{"width", in.width}, {"height", in.height},
                                                    {"channels", in.channels},
                                                    {"resize", resizePolicyName(in.resize)}}},
                              {"classes", model->numClasses()}, {"labels", labels},
                              {"params", static_cast<qint64>(totalParams)}, {"macs", static_cast<qint64>(totalMacs)},
                              {"layers", rows}, {"summary", summary}});
        return 0;
    }
    std::printf("%s%s\ninput %dx%dx%d (%s), %d classes, %s parameters, %s multiply-adds per image\n\n",
                model->path().c_str(), model->sidecar().name.empty() ? "" : (" — " + model->sidecar().name).c_str(),
                in.channels, in.height, in.width, resizePolicyName(in.resize), model->numClasses(),
                humanCount(totalParams).c_str(), humanCount(totalMacs).c_str());
    if (model->format() != "TorchScript") {
        std::printf("%s model", model->format().c_str());
        for (const auto &[key, value] : model->formatDetails())
            std::printf("; %s: %s", key.c_str(), value.c_str());
        std::printf("\n(exporters fold batch normalisation into the convolution before it: a Conv layer's output is "
                    "conv+BN)\n\n");
    }
    std::printf("%4s  %-44s %-22s %-10s %-16s %9s %9s  %s\n", "#", "layer", "type", "kind", "output", "params",
                "MACs", "field/stride");
    for (const auto &l : layers) {
        if (!kinds.isEmpty() && !kinds.contains(layerKindName(l.kind)))
            continue;
        std::string name = std::string(static_cast<size_t>(2 * l.depth), ' ') + l.path;
        if (!l.displayName.empty())
            name += " (" + l.displayName + ")";
        std::printf("%4d  %-44s %-22s %-10s %-16s %9s %9s  %-10s%s\n", l.index, name.c_str(), l.type.c_str(),
                    layerKindName(l.kind), l.capturable ? shapeText(l.outputShape).c_str() : "n/a",
                    humanCount(l.params).c_str(), l.macs ? humanCount(l.macs).c_str() : "-",
                    fieldColumn(l.field).c_str(),
                    l.capturable ? "" : ("  [" + l.whyNot + "]").c_str());
    }
    std::printf("\n%-24s %12s %8s %12s %6s\n", "cost by layer type", "MACs", "share", "params", "calls");
    for (const auto &c : cost)
        std::printf("%-24s %12s %7.2f%% %12s %6d\n", c.category.c_str(), humanCount(c.macs).c_str(),
                    totalMacs ? 100.0 * c.macs / totalMacs : 0.0, humanCount(c.params).c_str(), c.calls);
    return 0;
}

int cmdPredict(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({{"k", "top"}, "Number of classes to show (default 5).", "k"});
    p.addOption({"json", "Print the predictions as JSON."});
    if (auto rc = parse(p, args, "Top-k class predictions for images (files, or DATASET#INDEX).",
                        "MODEL IMAGE...", 2))
        return *rc;
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    const int k = intOption(p, "k", 5, 1, 100000);
    Preprocessor pre(model->input());
    QJsonArray out;
    int failures = 0, lastCode = 0;
    for (int i = 2; i < pos.size(); ++i) {
        try {
            ImageReference ref = ImageReference::load(pos[i].toStdString());
            auto preds = model->predict(pre.tensor(ref.image).unsqueeze(0), k)[0];
            QJsonArray list;
            if (!p.isSet("json"))
                std::printf("%s%s\n", ref.name.c_str(),
                            ref.label >= 0 ? (" (label: " + model->label(ref.label) + ")").c_str() : "");
            for (const auto &pr : preds) {
                list.append(QJsonObject{{"class", pr.classIndex}, {"label", q(pr.label)},
                                        {"probability", pr.probability}, {"logit", pr.logit}});
                if (!p.isSet("json"))
                    std::printf("  %6.2f%%  %-24s (class %d, logit %.4f)\n", 100.0 * pr.probability,
                                pr.label.c_str(), pr.classIndex, pr.logit);
            }
            out.append(QJsonObject{{"image", q(ref.name)}, {"label", ref.label}, {"predictions", list}});
        } catch (const Error &e) { // one bad image does not stop the others
            ++failures;
            lastCode = e.exitCode();
            std::fprintf(stderr, "convscope predict: skipped: %s\n", e.what());
        }
    }
    if (p.isSet("json"))
        printJson(out);
    return failures ? (failures == pos.size() - 2 ? lastCode : 1) : 0;
}

int cmdEvaluate(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"batch", "Images per forward pass (default 100).", "n"});
    p.addOption({"limit", "Evaluate only the first N images.", "n"});
    p.addOption({"json", "Print the result as JSON."});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "Accuracy of the model on a labelled dataset (class subfolders or idx files).",
                        "MODEL DATASET", 2, 2))
        return *rc;
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    auto source = ImageSource::open(pos[2].toStdString());
    std::fprintf(stderr, "dataset: %s\n", source->description().c_str());
    AccuracyEvaluator::Options o;
    o.batchSize = intOption(p, "batch", 100, 1, 4096);
    o.limit = p.isSet("limit") ? intOption(p, "limit", -1, 1, 2'000'000'000) : -1;
    AccuracyEvaluator ev(model, *source, o);
    CliProgressBar bar("images", p.isSet("quiet"));
    while (ev.run(1))
        bar.report(ev.done(), ev.total(), "evaluating");
    bar.report(ev.done(), ev.total(), "evaluating");
    bar.finish();
    const auto &r = ev.result();
    for (const auto &s : r.skipped)
        std::fprintf(stderr, "skipped %s: %s\n", s.name.c_str(), s.reason.c_str());
    if (r.labelled == 0)
        throw DataError("no image of the dataset has a label the model knows; cannot compute accuracy");
    if (p.isSet("json")) {
        printJson(QJsonObject{{"images", static_cast<qint64>(r.evaluated)},
                              {"labelled", static_cast<qint64>(r.labelled)},
                              {"skipped", static_cast<qint64>(r.skipped.size())}, {"top1", r.top1()},
                              {"top5", r.topK()}});
        return 0;
    }
    std::printf("top-1 accuracy: %.2f%% (%lld of %lld)\ntop-%d accuracy: %.2f%%\n", 100 * r.top1(),
                static_cast<long long>(r.correctTop1), static_cast<long long>(r.labelled), o.topK, 100 * r.topK());
    if (!r.skipped.empty())
        std::printf("skipped %zu unreadable images\n", r.skipped.size());
    return 0;
}

int cmdFilters(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"layer", "Conv layer (path, friendly name or index from `convscope info`).", "layer"});
    p.addOption({{"o", "output"}, "Output file: .png or .svg.", "file"});
    p.addOption({"mode", "auto (colour for 3 input channels, else norm), color, slices (one signed tile per "
                         "filter and input channel), norm (L2 norm over input channels).", "mode", "auto"});
    p.addOption({"scaling", "tile: normalise each tile; layer: one scale for the whole layer.", "tile|layer"});
    p.addOption({"width", "Image width in pixels.", "px"});
    if (auto rc = parse(p, args, "Draws the filter weights of a conv layer as a grid.", "MODEL --layer L -o FILE",
                        1, 1))
        return *rc;
    if (!p.isSet("layer") || !p.isSet("o"))
        throw UsageError("--layer and -o are required");
    auto model = loadModel(p, p.positionalArguments()[1]);
    const LayerInfo &layer = model->layer(p.value("layer").toStdString());
    FilterWeights::Options fo;
    fo.mode = FilterWeights::parseMode(p.value("mode").toStdString());
    fo.scaling = scalingOption(p);
    TileSet tiles = FilterWeights::tiles(*model, layer, fo);
    TileGridRenderer(gridOptions(p)).write(tiles, p.value("o"));
    std::printf("wrote %s (%lld tiles)\n", p.value("o").toLocal8Bit().constData(),
                static_cast<long long>(tiles.count()));
    return 0;
}

int cmdActivations(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"layer", "Layer (path, friendly name or index from `convscope info`).", "layer"});
    p.addOption({{"o", "output"}, "Output: .png/.svg (maps) or .npy (raw activation tensor, 1×C×H×W).", "file"});
    p.addOption({"order", "channel (default) or strength (strongest mean activation first).", "order"});
    p.addOption({"scaling", "tile: normalise each map; layer: one scale for all maps.", "tile|layer"});
    p.addOption({"width", "Image width in pixels.", "px"});
    if (auto rc = parse(p, args, "All channels' activation maps of a layer for one image (a file or "
                                 "DATASET#INDEX).", "MODEL IMAGE --layer L -o FILE", 2, 2))
        return *rc;
    if (!p.isSet("layer") || !p.isSet("o"))
        throw UsageError("--layer and -o are required");
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    const LayerInfo &layer = model->layer(p.value("layer").toStdString());
    ImageReference ref = ImageReference::load(pos[2].toStdString());
    torch::Tensor input = Preprocessor(model->input()).tensor(ref.image).unsqueeze(0);
    torch::Tensor act = model->probe().run(input, {layer.index}).captured.at(0);
    const QString out = p.value("o");
    if (QFileInfo(out).suffix().toLower() == "npy") {
        NpyFile::write(out.toStdString(), act);
    } else {
        ActivationMaps::Options ao;
        ao.scaling = scalingOption(p);
        const QString order = p.value("order");
        if (!order.isEmpty() && order != "channel" && order != "strength")
            throw UsageError("--order must be 'channel' or 'strength'");
        ao.order = order == "strength" ? ActivationMaps::Order::Strength : ActivationMaps::Order::Channel;
        TileSet tiles = ActivationMaps::tiles(act, ao);
        tiles.title = layer.path + " (" + layer.type + ") on " + ref.name;
        TileGridRenderer(gridOptions(p)).write(tiles, out);
    }
    std::string shape;
    for (auto d : act.sizes())
        shape += (shape.empty() ? "" : "x") + std::to_string(d);
    std::printf("wrote %s (%s activation of %s)\n", out.toLocal8Bit().constData(), shape.c_str(),
                layer.path.c_str());
    return 0;
}

/// "0.485,0.456,0.406" as floats; UsageError naming the option otherwise.
std::vector<float> floatList(const QCommandLineParser &p, const QString &name)
{
    std::vector<float> v;
    for (const QString &part : p.value(name).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const float x = part.trimmed().toFloat(&ok);
        if (!ok)
            throw UsageError("--" + name.toStdString() + " takes numbers separated by commas, not '" +
                             part.toStdString() + "'");
        v.push_back(x);
    }
    return v;
}

int cmdInputSpec(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"width", "Input width in pixels.", "n"});
    p.addOption({"height", "Input height in pixels.", "n"});
    p.addOption({"resize", "How images of another size are fitted: stretch, crop (shorter side to --resize-to, "
                           "then the centre) or pad (keep the aspect ratio, pad with the mean).", "mode"});
    p.addOption({"resize-to", "Shorter side before the centre crop (crop only).", "n"});
    p.addOption({"range", "Pixel values are scaled to [0, range] before the mean: 1 (torchvision) or 255.", "r"});
    p.addOption({"mean", "Per-channel mean, comma separated (one value for all channels).", "values"});
    p.addOption({"std", "Per-channel standard deviation, comma separated.", "values"});
    p.addOption({"channel-order", "rgb, or bgr for a model that takes its planes blue first (Caffe, models trained on "
                                  "OpenCV-decoded images). --mean and --std are in that order; the ones kept from "
                                  "before are reversed with the planes.", "order"});
    p.addOption({"labels-file", "Class names, one per line (relative to the sidecar's folder, or absolute).", "file"});
    p.addOption({"json", "Print the input spec in effect as JSON."});
    if (auto rc = parse(p, args, "Shows how the model takes its input (from its sidecar, or what Convscope "
                                 "assumes without one); with any of the options, writes them into the sidecar "
                                 "(MODEL.json, other fields kept) and shows the result.", "MODEL", 1, 1))
        return *rc;
    const QString modelPath = p.positionalArguments()[1];
    auto model = Model::load(modelPath.toStdString());
    InputSpec spec = model->input();
    bool change = false;
    if (p.isSet("width"))
        spec.width = intOption(p, "width", spec.width, 1, 8192), change = true;
    if (p.isSet("height"))
        spec.height = intOption(p, "height", spec.height, 1, 8192), change = true;
    if (p.isSet("resize")) {
        if (!parseResizePolicy(p.value("resize").toStdString(), spec.resize))
            throw UsageError("--resize is stretch, crop or pad, not '" + p.value("resize").toStdString() + "'");
        change = true;
    }
    if (p.isSet("resize-to"))
        spec.resizeTo = intOption(p, "resize-to", spec.resizeTo, 1, 16384), change = true;
    else if (p.isSet("width") || p.isSet("height"))
        spec.resizeTo = std::max(spec.width, spec.height) * 8 / 7; // as torchvision's 256 for 224
    if (p.isSet("range"))
        spec.range = static_cast<float>(realOption(p, "range", spec.range, 1e-6, 1e6)), change = true;
    if (p.isSet("mean"))
        spec.mean = floatList(p, "mean"), change = true;
    if (p.isSet("std"))
        spec.std = floatList(p, "std"), change = true;
    if (p.isSet("channel-order")) {
        const ChannelOrder before = spec.order;
        if (!parseChannelOrder(p.value("channel-order").toStdString(), spec.order))
            throw UsageError("--channel-order is rgb or bgr, not '" + p.value("channel-order").toStdString() + "'");
        if (spec.channels != 3 && spec.order == ChannelOrder::Bgr)
            throw UsageError("--channel-order bgr needs a 3-channel model; this one takes " +
                             std::to_string(spec.channels));
        // The mean and std kept from before belong to the same colours: they turn with the planes.
        if (spec.order != before) {
            if (!p.isSet("mean"))
                std::reverse(spec.mean.begin(), spec.mean.end());
            if (!p.isSet("std"))
                std::reverse(spec.std.begin(), spec.std.end());
        }
        change = true;
    }
    const std::string labels = p.value("labels-file").toStdString();
    change = change || !labels.empty();
    if (change) {
        const std::string written = ModelSidecarWriter::write(modelPath.toStdString(), spec, labels);
        std::fprintf(stderr, "wrote %s\n", written.c_str());
        model = Model::load(modelPath.toStdString()); // as every command will read it from now on
    }
    const InputSpec &in = model->input();
    const std::string source = model->sidecar().path.empty() ? "assumed (no sidecar)" : model->sidecar().path;
    if (p.isSet("json")) {
        printJson(QJsonObject{{"input", ModelSidecarWriter::inputJson(in)}, {"source", q(source)},
                              {"classes", model->numClasses()},
                              {"labels", static_cast<int>(model->sidecar().labels.size())}});
        return 0;
    }
    auto join = [](const std::vector<float> &v) {
        std::string s;
        for (float x : v)
            s += (s.empty() ? "" : ", ") + QString::number(static_cast<double>(x), 'g', 6).toStdString();
        return s;
    };
    std::printf("source     %s\n", source.c_str());
    std::printf("size       %d x %d, %d channel%s%s\n", in.width, in.height, in.channels, in.channels == 1 ? "" : "s",
                in.channels == 3 ? (in.order == ChannelOrder::Bgr ? " in BGR order" : " in RGB order") : "");
    std::printf("resize     %s%s\n", resizePolicyName(in.resize),
                in.resize == ResizePolicy::CenterCrop ? (" (shorter side to " + std::to_string(in.resizeTo) + ")").c_str() : "");
    std::printf("range      [0, %g]\n", static_cast<double>(in.range));
    const char *order = in.channels == 3 ? (in.order == ChannelOrder::Bgr ? " (B, G, R)" : " (R, G, B)") : "";
    std::printf("mean       %s%s\n", join(in.mean).c_str(), order);
    std::printf("std        %s%s\n", join(in.std).c_str(), order);
    std::printf("labels     %zu names for %d outputs%s\n", model->sidecar().labels.size(), model->numClasses(),
                model->sidecar().labels.empty() ? " (outputs read \"class N\": --labels-file names them)" : "");
    for (const auto &note : model->sidecar().notes)
        std::printf("note       %s\n", note.c_str());
    return 0;
}

} // namespace

const std::vector<CliCommand> &ModelCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"info", "layer table, output shapes, parameters and multiply-adds of a model", cmdInfo},
        {"input-spec",
         "how a model takes its input (size, resize, mean/std, channel order, labels); set it in the sidecar",
         cmdInputSpec},
        {"predict", "top-k predictions for images", cmdPredict},
        {"evaluate", "accuracy on a labelled dataset", cmdEvaluate},
        {"filters", "filter weights of a conv layer as a PNG/SVG grid", cmdFilters},
        {"activations", "a layer's activation maps for one image (PNG/SVG, or .npy)", cmdActivations},
    };
    return commands;
}

} // namespace convscope
