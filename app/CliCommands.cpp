#include "CliCommands.h"

#include "ActivationMaps.h"
#include "CliProgressBar.h"
#include "CliSupport.h"
#include "ReconstructCommands.h"
#include "SearchCommands.h"
#include "MapCommands.h"
#include "Error.h"
#include "Evaluator.h"
#include "FilterWeights.h"
#include "ImageReference.h"
#include "ImageSource.h"
#include "Model.h"
#include "ModulePath.h"
#include "NpyFile.h"
#include "PatchReconstructions.h"
#include "Reconstructor.h"
#include "Preprocessor.h"
#include "ProjectStore.h"
#include "Scan.h"
#include "StoredScan.h"
#include "TopPatchSheets.h"
#include "TileGridRenderer.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

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
        printJson(QJsonObject{{"model", q(model->path())}, {"name", q(model->sidecar().name)},
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
    Evaluator::Options o;
    o.batchSize = intOption(p, "batch", 100, 1, 4096);
    o.limit = p.isSet("limit") ? intOption(p, "limit", -1, 1, 2'000'000'000) : -1;
    Evaluator ev(model, *source, o);
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
    if (p.isSet("response") && !p.isSet("images"))
        throw UsageError("--response goes with --images");
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
    if (p.isSet("response") && !p.isSet("images"))
        throw UsageError("--response goes with --images");
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

/// Writes the top-k records of a stored scan as CSV.
void writeTopCsv(const QString &path, ProjectStore &store, const ProjectStore::ScanInfo &info, const ImageSource &source)
{
    QFile csv(path);
    if (!csv.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        throw IoError("cannot write '" + path.toStdString() + "': " + csv.errorString().toStdString());
    auto quoted = [](const std::string &text) {
        std::string out = "\"";
        for (char ch : text)
            out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        return out + "\"";
    };
    std::string text = "ranking,layer,channel,rank,image,name,label,y,x,value\n";
    for (size_t l = 0; l < info.layers.size(); ++l)
        for (auto statistic : {TopKTracker::Statistic::SpatialMax, TopKTracker::Statistic::SpatialMean}) {
            const auto all = store.topOfLayer(info.id, static_cast<int>(l), statistic);
            for (size_t c = 0; c < all.size(); ++c)
                for (size_t j = 0; j < all[c].size(); ++j) {
                    const auto &e = all[c][j];
                    char value[32];
                    std::snprintf(value, sizeof value, "%.9g", e.value);
                    text += std::string(statistic == TopKTracker::Statistic::SpatialMax ? "max" : "mean") + "," +
                            info.layers[l] + "," + std::to_string(c) + "," + std::to_string(j) + "," +
                            std::to_string(e.image) + "," + quoted(source.name(e.image)) + "," +
                            std::to_string(source.label(e.image)) + "," + std::to_string(e.y) + "," +
                            std::to_string(e.x) + "," + value + "\n";
                }
        }
    if (csv.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()) || !csv.flush())
        throw IoError("cannot write '" + path.toStdString() + "' (disk full?)");
}

int cmdScan(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"project", "Project folder for the results (default: DATASET.convscope beside the dataset, or "
                            "~/.local/share/convscope/projects/ for read-only or system-installed datasets).",
                 "dir"});
    p.addOption({"layers", "Comma-separated layers (default: every conv layer and 4-D block output).", "list"});
    p.addOption({"top-k", "Entries per channel, from distinct images (default 9).", "k"});
    p.addOption({"batch", "Images per forward pass (default 64; results do not depend on it).", "n"});
    p.addOption({"limit", "Scan only the first N images.", "n"});
    p.addOption({"features", "Layers whose pooled outputs are kept per image, comma separated; 'layer:avg' or "
                             "'layer:max' for one pooling of a map; 'none' for none (default: the last scanned "
                             "map, average and max, and every hidden fully connected layer).", "list"});
    p.addOption({"fresh", "Discard a stored scan with the same model, dataset and options, and start again."});
    p.addOption({"csv", "Also write the top-k records as CSV: ranking (max|mean), layer, channel, rank, image, "
                        "name, label, y, x, value.", "file"});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "Finds, for every channel of the chosen layers, the top-k dataset images by the "
                                 "channel's maximum (with its position) and by its mean, and keeps per image the "
                                 "prediction and pooled feature vectors, in a project folder. An interrupted scan "
                                 "(even killed) resumes where it stopped when run again; a finished one is reused.",
                        "MODEL DATASET", 2, 2))
        return *rc;
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    std::shared_ptr<const ImageSource> source = ImageSource::open(pos[2].toStdString());
    std::fprintf(stderr, "dataset: %s\n", source->description().c_str());
    StoredScan::Options o;
    for (const QString &l : p.value("layers").split(',', Qt::SkipEmptyParts))
        o.scan.layers.push_back(l.trimmed().toStdString());
    for (const QString &f : p.value("features").split(',', Qt::SkipEmptyParts)) {
        if (f.trimmed() == "none")
            o.scan.noFeatures = true;
        else
            o.scan.features.push_back(f.trimmed().toStdString());
    }
    o.scan.k = intOption(p, "top-k", 9, 1, 1000);
    o.scan.batchSize = intOption(p, "batch", 64, 1, 4096);
    o.scan.limit = p.isSet("limit") ? intOption(p, "limit", -1, 1, 2'000'000'000) : -1;
    o.project = p.value("project").toStdString();
    o.fresh = p.isSet("fresh");
    if (p.isSet("csv")) { // fail before scanning, not after
        QFile probe(p.value("csv"));
        if (!probe.open(QIODevice::WriteOnly | QIODevice::Append))
            throw IoError("cannot write '" + p.value("csv").toStdString() + "': " + probe.errorString().toStdString());
    }
    StoredScan stored(model, source, pos[2].toStdString(), o);
    const std::string project = stored.store().dir();
    if (stored.reused()) {
        std::fprintf(stderr, "scan %lld in %s is complete already (%s); reusing it (--fresh to redo)\n",
                     static_cast<long long>(stored.id()), project.c_str(), stored.info().updated.c_str());
    } else {
        if (stored.resumedAt() > 0)
            std::fprintf(stderr, "resuming scan %lld at image %lld of %lld\n", static_cast<long long>(stored.id()),
                         static_cast<long long>(stored.resumedAt()), static_cast<long long>(stored.total()));
        CliProgressBar bar("images", p.isSet("quiet"));
        const std::int64_t start = stored.resumedAt(), total = stored.total() - start;
        while (stored.run(1))
            bar.report(stored.done() - start, total, "scanning");
        bar.report(stored.done() - start, total, "scanning");
        bar.finish();
    }
    const ProjectStore::ScanInfo info = stored.info();
    const auto skipped = stored.store().skipped(info.id);
    for (size_t i = 0; i < skipped.size() && i < 20; ++i)
        std::fprintf(stderr, "skipped %s: %s\n", skipped[i].name.c_str(), skipped[i].reason.c_str());
    if (skipped.size() > 20)
        std::fprintf(stderr, "... and %zu more skipped images (listed in the project catalogue)\n", skipped.size() - 20);
    if (p.isSet("csv"))
        writeTopCsv(p.value("csv"), stored.store(), info, *source);
    std::printf("scan %lld: %lld images (%zu skipped), %zu layers, %zu feature sets, %.1f s of scanning; project %s\n",
                static_cast<long long>(info.id), static_cast<long long>(info.total), skipped.size(), info.layers.size(),
                info.features.size(), info.seconds, project.c_str());
    if (stored.scan().labelled() > 0)
        std::printf("accuracy on the labelled images of this run: %.2f%%\n",
                    100.0 * static_cast<double>(stored.scan().correct()) / static_cast<double>(stored.scan().labelled()));
    if (p.isSet("csv"))
        std::printf("wrote %s\n", p.value("csv").toLocal8Bit().constData());
    return 0;
}

/// "3,5,10-12" -> {3, 5, 10, 11, 12}.
int cmdTop(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"layer", "Scanned layer to show (path, friendly name or index).", "layer"});
    p.addOption({"units", "Units to show, e.g. 0,5,10-19. Without it: a poster of the whole layer.", "list"});
    p.addOption({"images", "With --units: the max-response images (by the map's mean), whole, instead of the "
                           "top patches."});
    p.addOption({"response", "With --images: lay the unit's activation map over each image (one colour scale)."});
    p.addOption({"with-reconstructions", "Add each patch's projection back to the input (the two-column figure: "
                                         "projections | patches). Cached in the project."});
    p.addOption({"method", "With --with-reconstructions: deconvnet (default), guided or gradient.", "method"});
    p.addOption({"scan", "Scan id in the project (default: the newest complete scan).", "id"});
    p.addOption({"o", "Output .png or .svg. With several --units, one file per unit (name_u<unit>.png).", "file"});
    p.addOption({"width", "Image width in pixels (any resolution).", "px"});
    p.addOption({"columns", "Tiles per row (default: as square as possible).", "n"});
    if (auto rc = parse(p, args, "Draws the top-k patches of a scanned layer from a project: a poster with every "
                                 "unit's patches as a mosaic (Zeiler & Fergus), or contact sheets of chosen units. "
                                 "Patches are cropped at each unit's receptive field; blue checks mark padding "
                                 "beyond the image border.",
                        "PROJECT --layer L -o sheet.png", 1, 1))
        return *rc;
    if (!p.isSet("layer") || !p.isSet("o"))
        throw UsageError("--layer and -o are required");
    if (p.isSet("response") && !p.isSet("images"))
        throw UsageError("--response goes with --images");
    const bool withRecon = p.isSet("with-reconstructions");
    if (withRecon && p.isSet("images"))
        throw UsageError("--with-reconstructions goes with patches, not --images");
    if (p.isSet("method") && !withRecon)
        throw UsageError("--method goes with --with-reconstructions");
    ProjectStore store(p.positionalArguments()[1].toStdString());
    std::optional<ProjectStore::ScanInfo> info;
    if (p.isSet("scan"))
        info = store.scan(intOption(p, "scan", 1, 1, 1'000'000'000));
    else
        info = store.latestComplete();
    if (!info)
        throw DataError("project '" + store.dir() + "' holds no complete scan; run `convscope scan` first");
    if (!QFileInfo::exists(QString::fromStdString(info->modelPath)))
        throw IoError("the scanned model '" + info->modelPath + "' is gone");
    if (ProjectStore::sha256(info->modelPath) != info->modelSha256)
        throw DataError("the model file '" + info->modelPath + "' changed since scan " + std::to_string(info->id) +
                        "; scan again");
    auto model = Model::load(info->modelPath);
    auto source = ImageSource::open(info->dataset);
    TopPatchSheets sheets(model, *source, store, info->id);
    const int slot = sheets.layerSlot(p.value("layer").toStdString());
    TileGridRenderer::Options ro = gridOptions(p);
    TileGridRenderer renderer(ro);
    const QString out = p.value("o");
    const int columns = p.isSet("columns") ? intOption(p, "columns", 0, 1, 1000) : 0;
    PatchReconstructions::Options po;
    if (p.isSet("method"))
        po.rule = parseBackpropRule(p.value("method").toStdString());
    Reconstructor reconstructor(model);
    PatchReconstructions recon(sheets, reconstructor, po);
    if (!p.isSet("units")) {
        CliProgressBar bar("units");
        TileSet poster = withRecon ? recon.poster(slot, {}, &bar) : sheets.poster(slot);
        bar.finish();
        poster.columns = columns;
        renderer.write(poster, out);
        std::printf("wrote %s (%lld units of %s)\n", out.toLocal8Bit().constData(),
                    static_cast<long long>(poster.count()), sheets.info().layers[static_cast<size_t>(slot)].c_str());
        return 0;
    }
    const auto units = unitList(p.value("units"));
    for (std::int64_t u : units) {
        TileSet set = p.isSet("images") ? sheets.unitImages(slot, u, p.isSet("response"))
                      : withRecon       ? recon.unitSheet(slot, u)
                                        : sheets.unitPatches(slot, u);
        if (columns)
            set.columns = columns;
        QString file = out;
        if (units.size() > 1) {
            const QFileInfo fi(out);
            file = fi.path() + "/" + fi.completeBaseName() + "_u" + QString::number(u) + "." + fi.suffix();
        }
        renderer.write(set, file);
        std::printf("wrote %s\n", file.toLocal8Bit().constData());
    }
    return 0;
}

} // namespace

const std::vector<CliCommand> &CliCommands::all()
{
    static const std::vector<CliCommand> commands = [] {
    std::vector<CliCommand> list = {
        {"info", "layer table, output shapes, parameters and multiply-adds of a model", cmdInfo},
        {"predict", "top-k predictions for images", cmdPredict},
        {"evaluate", "accuracy on a labelled dataset", cmdEvaluate},
        {"filters", "filter weights of a conv layer as a PNG/SVG grid", cmdFilters},
        {"activations", "a layer's activation maps for one image (PNG/SVG, or .npy)", cmdActivations},
        {"scan", "top-k patches and images per channel over a dataset, into a project (resumable)", cmdScan},
        {"top", "top-k patch posters and contact sheets of a scanned layer (PNG/SVG)", cmdTop},
    };
    for (const CliCommand &c : ReconstructCommands::all())
        list.push_back(c);
    for (const CliCommand &c : SearchCommands::all())
        list.push_back(c);
    for (const CliCommand &c : MapCommands::all())
        list.push_back(c);
    return list;
    }();
    return commands;
}

} // namespace convscope
