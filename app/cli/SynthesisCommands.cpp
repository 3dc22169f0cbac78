#include "cli/SynthesisCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "common/NpyFile.h"
#include "explain/UnitSynthesizer.h"
#include "scan/ProjectStore.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace convscope {

namespace {

using namespace cli;

/// The best dataset response (top-1 of the spatial-maximum ranking) of every unit of `layer` in the newest complete
/// scan of this model (same file contents) in `project` that covers the layer; nothing when there is none.
std::optional<std::vector<float>> bestDatasetResponses(const std::string &project, const Model &model,
                                                       const LayerInfo &layer, std::string &described)
{
    ProjectStore store(project);
    const std::string sha = ProjectStore::sha256(model.path());
    auto scans = store.scans();
    for (auto it = scans.rbegin(); it != scans.rend(); ++it) {
        if (!it->complete || it->modelSha256 != sha)
            continue;
        const auto slot = std::find(it->layers.begin(), it->layers.end(), layer.path);
        if (slot == it->layers.end())
            continue;
        // The rankings alone (the stored paths of the scan's model and dataset may have moved since).
        const auto ranking = store.topOfLayer(it->id, static_cast<int>(slot - it->layers.begin()),
                                              TopKTracker::Statistic::SpatialMax);
        std::vector<float> best;
        for (const auto &entries : ranking)
            best.push_back(entries.empty() ? 0.f : entries.front().value);
        described = "scan " + std::to_string(it->id) + " of " + it->dataset + " (" + std::to_string(it->total) +
                    " images)";
        return best;
    }
    return std::nullopt;
}

UnitSynthesizer::Options synthesisOptions(const QCommandLineParser &p)
{
    UnitSynthesizer::Options o;
    o.steps = intOption(p, "steps", o.steps, 1, 100000);
    if (p.isSet("objective"))
        o.objective = parseObjective(p.value("objective").toStdString());
    o.images = intOption(p, "images", o.images, 1, 64);
    o.diversityWeight = realOption(p, "diversity", o.images > 1 ? 1.0 : 0.0, 0, 1e6);
    if (p.isSet("regularizer"))
        o.regularizer = parseRegularizer(p.value("regularizer").toStdString());
    o.regularizerWeight = realOption(p, "weight", o.regularizer == UnitSynthesizer::Regularizer::None ? 0.0 : 1.0,
                                     0, 1e6);
    if (p.isSet("weight") && o.regularizer == UnitSynthesizer::Regularizer::None)
        throw UsageError("--weight goes with --regularizer l2, tv or blur");
    o.size = intOption(p, "size", 0, 8, 4096);
    o.seed = static_cast<std::uint64_t>(intOption(p, "seed", 1, 0, 2'000'000'000));
    o.learningRate = realOption(p, "lr", o.learningRate, 1e-6, 10);
    o.jitter = realOption(p, "jitter", o.jitter, 0, 0.5);
    o.rotationDegrees = realOption(p, "rotate", o.rotationDegrees, 0, 180);
    o.scaleRange = realOption(p, "scale", o.scaleRange, 0, 0.5);
    o.parametrisation.decay = realOption(p, "decay", o.parametrisation.decay, 0, 4);
    return o;
}

std::string number(double v)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", v);
    return text;
}

int cmdSynthesize(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"layer", "Layer (path, friendly name or index), or 'output' for class scores.", "layer"});
    p.addOption({"units", "Units (channels; classes for --layer output), e.g. 0,5,10-19. Default: the whole layer.",
                 "list"});
    p.addOption({"objective", "neuron (default: the map's centre position, or --at) or channel (the map's mean).",
                 "name"});
    p.addOption({"at", "The position y,x of the map the neuron objective excites (default: the centre).", "y,x"});
    p.addOption({"steps", "Optimisation steps (default 256).", "n"});
    p.addOption({"images", "Images per unit, pushed apart by a diversity term (default 1).", "n"});
    p.addOption({"diversity", "Weight of the diversity term (default 1 with --images > 1).", "w"});
    p.addOption({"regularizer", "none (default), l2, tv (total variation) or blur.", "name"});
    p.addOption({"weight", "Weight of the regulariser (default 1).", "w"});
    p.addOption({"size", "Image side in pixels (default: the model's input size; maps only for other sizes).", "px"});
    p.addOption({"seed", "Random seed (default 1): the same seed gives the same images.", "n"});
    p.addOption({"lr", "Adam learning rate on the spectrum (default 0.05).", "rate"});
    p.addOption({"jitter", "Largest random shift per step, as a fraction of the side (default 0.04).", "f"});
    p.addOption({"rotate", "Largest random rotation per step in degrees (default 10).", "deg"});
    p.addOption({"scale", "Random scale range per step: 1 ± r (default 0.1).", "r"});
    p.addOption({"decay", "Frequency decay of the parametrisation (default 1; 0 = plain pixels).", "d"});
    p.addOption({"project", "A project with a scan of this model: report each image's response over the unit's "
                            "best dataset image.", "dir"});
    p.addOption({"npy", "Also write the images as an N×C×H×W float32 .npy (values in [0, 1]).", "file"});
    p.addOption({"width", "Sheet width in pixels.", "px"});
    p.addOption({"columns", "Tiles per row (default: as square as possible).", "n"});
    p.addOption({{"o", "output"}, "Output sheet (.png or .svg).", "file"});
    if (auto rc = parse(p, args, "Synthesises images that excite units of a layer (activation maximisation with a "
                                 "decorrelated Fourier parametrisation, random jitter, scale and rotation, an "
                                 "optional regulariser and a diversity term) and draws them as a sheet.",
                        "MODEL --layer L [--units LIST] -o sheet.png", 1, 1))
        return *rc;
    if (!p.isSet("layer") || !p.isSet("o"))
        throw UsageError("--layer and -o are required");
    auto model = loadModel(p, p.positionalArguments()[1]);
    const QString layerName = p.value("layer");
    const bool logits = layerName == "output";
    const LayerInfo *layer = logits ? nullptr : &model->layer(layerName.toStdString());
    const int index = logits ? -1 : layer->index;
    UnitSynthesizer::Options o = synthesisOptions(p);
    int y = -1, x = -1;
    if (p.isSet("at")) {
        const QStringList yx = p.value("at").split(',');
        bool ok1 = false, ok2 = false;
        if (yx.size() == 2)
            y = yx[0].toInt(&ok1), x = yx[1].toInt(&ok2);
        if (!ok1 || !ok2 || y < 0 || x < 0 || logits)
            throw UsageError("--at must be a position y,x like 3,4 in a layer's map");
        if (o.objective == UnitSynthesizer::Objective::Channel)
            throw UsageError("--at goes with the neuron objective, not --objective channel");
    }
    std::vector<UnitSynthesizer::Target> targets;
    if (p.isSet("units")) {
        for (auto u : unitList(p.value("units")))
            targets.push_back({index, static_cast<int>(u), y, x});
    } else if (logits) {
        for (int c = 0; c < model->numClasses(); ++c)
            targets.push_back({-1, c, -1, -1});
    } else {
        targets = UnitSynthesizer::layerTargets(*model, index);
        for (auto &t : targets)
            t.y = y, t.x = x;
    }
    std::optional<std::vector<float>> best;
    std::string described;
    if (p.isSet("project")) {
        if (logits)
            throw UsageError("--project compares units of a scanned layer, not class scores");
        best = bestDatasetResponses(p.value("project").toStdString(), *model, *layer, described);
        if (!best)
            throw DataError("project '" + p.value("project").toStdString() + "' holds no complete scan of this "
                            "model with layer '" + layer->path + "'");
    }
    UnitSynthesizer synth(model, targets, o);
    CliProgressBar bar("steps");
    while (!synth.run(8, &bar)) {
    }
    bar.finish();
    const auto &r = synth.result();

    TileSet set;
    set.kind = TileValues::Color;
    set.values = r.images.size(1) == 1 ? r.images.repeat({1, 3, 1, 1}) : r.images;
    set.columns = p.isSet("columns") ? intOption(p, "columns", 0, 1, 1000) : (o.images > 1 ? o.images : 0);
    const std::string what = logits ? std::string("class scores") : layer->path;
    set.title = what + " — synthesised, " + std::to_string(o.steps) + " steps";
    std::printf("%-8s %-6s %12s%s\n", logits ? "class" : "unit", "image", "response",
                best ? "   best dataset   ratio" : "");
    int above = 0;
    for (size_t i = 0; i < r.objective.size(); ++i) {
        const UnitSynthesizer::Target &t = targets[i / static_cast<size_t>(o.images)];
        const float v = r.objective[i];
        std::string caption = (logits ? model->label(t.channel) : "u" + std::to_string(t.channel)) + " · " + number(v);
        if (best) {
            const float b = best->at(static_cast<size_t>(t.channel));
            const double ratio = b > 0 ? v / b : 0.0;
            above += ratio > 1.0;
            caption += " · " + number(ratio) + "×";
            std::printf("%-8d %-6zu %12.4g %16.4g %7.2f\n", t.channel, i % static_cast<size_t>(o.images), v, b,
                        ratio);
        } else {
            std::printf("%-8d %-6zu %12.4g\n", t.channel, i % static_cast<size_t>(o.images), v);
        }
        set.captions.push_back(caption);
    }
    if (best)
        std::printf("%d of %zu images excite their unit more than its best image in %s\n", above, r.objective.size(),
                    described.c_str());
    const QString out = p.value("o");
    TileGridRenderer::Options ro = gridOptions(p);
    if (!p.isSet("width")) { // legible by default: tiles of at least 128 pixels, so captions and title fit
        const auto n = static_cast<int>(set.count());
        const int columns = set.columns > 0 ? set.columns : static_cast<int>(std::ceil(std::sqrt(double(n))));
        const int tile = std::max(128, static_cast<int>(set.values.size(3)));
        ro.width = std::min(4096, std::min(columns, n) * (tile + ro.gap) + ro.gap);
    }
    TileGridRenderer(ro).write(set, out);
    std::printf("wrote %s (%zu images of %s)\n", out.toLocal8Bit().constData(), r.objective.size(), what.c_str());
    if (p.isSet("npy")) {
        NpyFile::write(p.value("npy").toStdString(), r.images);
        std::printf("wrote %s\n", p.value("npy").toLocal8Bit().constData());
    }
    return 0;
}

} // namespace

const std::vector<CliCommand> &SynthesisCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"synthesize", "images synthesised to excite units or classes (activation maximisation), as a sheet",
         cmdSynthesize},
    };
    return commands;
}

} // namespace convscope
