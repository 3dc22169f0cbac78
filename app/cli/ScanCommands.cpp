#include "cli/ScanCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "explain/PatchReconstructions.h"
#include "explain/Reconstructor.h"
#include "scan/ProjectStore.h"
#include "scan/Scan.h"
#include "scan/StoredScan.h"
#include "scan/TopPatchSheets.h"
#include "shard/ShardMerge.h"
#include "shard/ShardPlan.h"
#ifdef CONVSCOPE_HAVE_MPI
#include "shard/MpiScanJob.h"
#endif
#include "render/TileGridRenderer.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace convscope {

namespace {

using namespace cli;


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

/// The largest patch side a poster of `units` mosaics (k patches each) shows at `width` pixels (0 = the renderer's
/// ~64-pixel tiles), twice over for a sharp result: patches are cropped no larger, so memory follows the poster.
int posterPatchSide(int width, int columns, std::size_t units, int k)
{
    const double perRow =
        columns > 0 ? columns : std::ceil(std::sqrt(static_cast<double>(std::max<std::size_t>(units, 1))));
    const double tile = width > 0 ? width / perRow : 64.0;
    const double patch = tile / std::ceil(std::sqrt(static_cast<double>(std::max(k, 1))));
    return static_cast<int>(std::clamp(2 * std::ceil(patch), 16.0, 512.0));
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
    p.addOption({"checkpoint", "Record progress in the project at least every SECONDS of scanning (default 3): the "
                               "most a killed scan loses. 0 records every batch (slower on deep models).",
                 "seconds"});
    p.addOption({"csv", "Also write the top-k records as CSV: ranking (max|mean), layer, channel, rank, image, "
                        "name, label, y, x, value.", "file"});
    p.addOption({"shard", "Scan only shard I of N (I = 0 … N-1): a contiguous run of the images in whole blocks of "
                          "64, into PROJECT/shard-I-of-N. Run every shard (any order, any machines), then "
                          "`convscope merge PROJECT --project PROJECT`.", "I/N"});
    p.addOption({"mpi", "Run as an MPI job (mpirun -n R … / srun): rank r scans shard r/R with its share of the "
                        "machine's cores, rank 0 shows the progress of the whole job and merges the shards into "
                        "the project."});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "Finds, for every channel of the chosen layers, the top-k dataset images by the "
                                 "channel's maximum (with its position) and by its mean, and keeps per image the "
                                 "prediction and pooled feature vectors, in a project folder. An interrupted scan "
                                 "(even killed) resumes where it stopped when run again; a finished one is reused.",
                        "MODEL DATASET", 2, 2))
        return *rc;
    const QStringList pos = p.positionalArguments();
    if (p.isSet("mpi") && p.isSet("shard"))
        throw UsageError("--mpi picks each rank's shard itself; drop --shard");
    if (p.isSet("mpi") && p.isSet("fresh"))
        throw UsageError("--fresh does not go with --mpi (ranks would discard each other's work); remove the "
                         "project's shard-*-of-* folders to start again");
#ifdef CONVSCOPE_HAVE_MPI
    std::unique_ptr<MpiScanJob> mpi;
    if (p.isSet("mpi"))
        mpi = std::make_unique<MpiScanJob>();
    const bool talk = !mpi || mpi->rank() == 0; // one voice per job
#else
    if (p.isSet("mpi"))
        throw UsageError("this Convscope was built without MPI (install libopenmpi-dev and rebuild); run one "
                         "process per shard with --shard I/N and `convscope merge` instead");
    const bool talk = true;
#endif
    std::shared_ptr<const Model> model;
    std::shared_ptr<const ImageSource> source;
    auto setup = [&] { // on every rank of an MPI job, inside its protocol (a failure ends the job cleanly)
        model = loadModel(p, pos[1]);
        source = ImageSource::open(pos[2].toStdString());
        if (talk)
            std::fprintf(stderr, "dataset: %s\n", source->description().c_str());
        if (talk && p.isSet("csv")) { // fail before scanning, not after
            QFile probe(p.value("csv"));
            if (!probe.open(QIODevice::WriteOnly | QIODevice::Append))
                throw IoError("cannot write '" + p.value("csv").toStdString() + "': " +
                              probe.errorString().toStdString());
        }
    };
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
    o.checkpointSeconds = realOption(p, "checkpoint", 3.0, 0.0, 86400.0);
#ifdef CONVSCOPE_HAVE_MPI
    if (mpi) {
        CliProgressBar bar("images", p.isSet("quiet") || mpi->rank() != 0);
        const MpiScanJob::Outcome outcome = mpi->run(
            [&] {
                setup();
                return MpiScanJob::Inputs{model, source};
            },
            pos[2].toStdString(), o, &bar);
        bar.finish();
        if (mpi->rank() != 0)
            return outcome.ok ? 0 : 1;
        if (!outcome.ok)
            throw DataError("MPI scan stopped: " + outcome.message);
        std::printf("scan %lld: %lld images over %d ranks, %zu layers, %zu feature sets, %.1f s of scanning (all "
                    "ranks)%s; project %s\n",
                    static_cast<long long>(outcome.merged.id), static_cast<long long>(outcome.merged.total),
                    mpi->ranks(), outcome.merged.layers.size(), outcome.merged.features.size(),
                    outcome.merged.seconds, outcome.alreadyMerged ? " (merged before)" : "", outcome.project.c_str());
        if (p.isSet("csv")) {
            ProjectStore store(outcome.project);
            writeTopCsv(p.value("csv"), store, outcome.merged, *source);
            std::printf("wrote %s\n", p.value("csv").toLocal8Bit().constData());
        }
        return 0;
    }
#endif
    setup();
    if (p.isSet("shard")) {
        const auto [index, count] = ShardPlan::parse(p.value("shard").toStdString());
        o.scan.shardIndex = index;
        o.scan.shardCount = count;
        o.project = ShardPlan::folder(o.project.empty() ? StoredScan::defaultProjectDir(pos[2].toStdString())
                                                        : o.project,
                                      index, count);
    }
    StoredScan stored(model, source, pos[2].toStdString(), o);
    const std::string project = stored.store().dir();
    if (o.scan.shardCount > 0 && stored.first() == stored.total())
        std::fprintf(stderr, "shard %d/%d holds no image (shards split the %lld images in blocks of %lld)\n",
                     o.scan.shardIndex, o.scan.shardCount, static_cast<long long>(stored.scan().datasetImages()),
                     static_cast<long long>(ShardPlan::kBlock));
    else if (o.scan.shardCount > 0)
        std::fprintf(stderr, "shard %d/%d: images %lld to %lld of %lld\n", o.scan.shardIndex, o.scan.shardCount,
                     static_cast<long long>(stored.first()), static_cast<long long>(stored.total() - 1),
                     static_cast<long long>(stored.scan().datasetImages()));
    if (stored.reused()) {
        std::fprintf(stderr, "scan %lld in %s is complete already (%s); reusing it (--fresh to redo)\n",
                     static_cast<long long>(stored.id()), project.c_str(), stored.info().updated.c_str());
    } else {
        if (stored.resumedAt() > stored.first())
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
                static_cast<long long>(info.id), static_cast<long long>(info.total - info.first), skipped.size(),
                info.layers.size(), info.features.size(), info.seconds, project.c_str());
    if (info.shardCount > 0)
        std::printf("shard %d/%d done; when every shard is, merge them: convscope merge %s --project %s\n",
                    info.shardIndex, info.shardCount, QFileInfo(QString::fromStdString(project)).absolutePath()
                        .toLocal8Bit().constData(),
                    QFileInfo(QString::fromStdString(project)).absolutePath().toLocal8Bit().constData());
    if (stored.scan().labelled() > 0)
        std::printf("accuracy on the labelled images of this run: %.2f%%\n",
                    100.0 * static_cast<double>(stored.scan().correct()) / static_cast<double>(stored.scan().labelled()));
    if (p.isSet("csv"))
        std::printf("wrote %s\n", p.value("csv").toLocal8Bit().constData());
    return 0;
}

/// The newest complete scan of the newest scan's model and dataset that tracked `layer` (a features-only scan made
/// by `map` or `index` for another layer does not hide an earlier full scan); the newest complete scan when none
/// did (its layer lookup then says which layers it has).
std::optional<ProjectStore::ScanInfo> latestScanWithLayer(const ProjectStore &store, const std::string &layer)
{
    const auto newest = store.latestComplete();
    if (!newest || !QFileInfo::exists(QString::fromStdString(newest->modelPath)))
        return newest;
    std::string path = layer;
    try {
        path = Model::load(newest->modelPath)->layer(layer).path;
    } catch (const Error &) {
        return newest; // the sheets say what is wrong with the name
    }
    std::optional<ProjectStore::ScanInfo> best;
    for (const auto &s : store.scans())
        if (s.complete && s.modelPath == newest->modelPath && s.dataset == newest->dataset &&
            std::find(s.layers.begin(), s.layers.end(), path) != s.layers.end() && (!best || s.id > best->id))
            best = s;
    return best ? best : newest;
}

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
        info = latestScanWithLayer(store, p.value("layer").toStdString());
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
        const std::size_t units = sheets.ranking(slot, TopKTracker::Statistic::SpatialMax).size();
        if (!p.isSet("width")) { // legible by default: every patch about 48 pixels, the title whole
            const double perRow = columns > 0 ? columns : std::ceil(std::sqrt(static_cast<double>(std::max<std::size_t>(units, 1))));
            const double mosaic = std::ceil(std::sqrt(static_cast<double>(std::max(sheets.info().k, 1)))) * 48 * (withRecon ? 2 : 1);
            ro.width = static_cast<int>(std::clamp(perRow * (mosaic + ro.gap) + ro.gap, 960.0, 12000.0));
            renderer = TileGridRenderer(ro);
        }
        const int side = posterPatchSide(ro.width, columns, units, sheets.info().k);
        TileSet poster = withRecon ? recon.poster(slot, {}, &bar, side) : sheets.poster(slot, {}, side, &bar);
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
        if (!p.isSet("width")) { // a unit's sheet: patches (or images) of about 128 pixels, captions whole
            const int perRow = set.columns > 0 ? set.columns : static_cast<int>(std::ceil(std::sqrt(double(std::max<int64_t>(set.count(), 1)))));
            ro.width = std::max(480, perRow * (128 + ro.gap) + ro.gap);
            renderer = TileGridRenderer(ro);
        }
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

int cmdMerge(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"project", "Project folder for the merged scan (may be the folder holding the shards).", "dir"});
    p.addOption({"scan", "Where the folders hold shards of several scans (other layers, k, model...): the key of "
                         "the one to merge, or its first characters (the error without it lists them).", "key"});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "Merges the shards of a scan (scanned with --shard I/N, by a job array or "
                                 "--mpi) into one complete scan in a project, exactly as if it had been scanned in "
                                 "one go. Give the shard folders, or the folder that holds them as shard-I-of-N. "
                                 "Refuses shards of different models, datasets or options, and missing or "
                                 "unfinished ones; running it again is safe.",
                        "SHARD_PROJECT... --project OUT", 1, 100000))
        return *rc;
    if (!p.isSet("project"))
        throw UsageError("--project is required (where the merged scan goes)");
    std::vector<std::string> folders;
    for (int i = 1; i < p.positionalArguments().size(); ++i)
        folders.push_back(p.positionalArguments()[i].toStdString());
    ShardMerge merge(folders, p.value("project").toStdString(), p.value("scan").toStdString());
    const ProjectStore::ScanInfo &first = merge.shards().front();
    if (merge.alreadyMerged()) {
        std::fprintf(stderr, "the %d shards are merged already (scan %lld in %s); nothing to do\n", first.shardCount,
                     static_cast<long long>(merge.merged().id), merge.store().dir().c_str());
    } else {
        CliProgressBar bar("parts", p.isSet("quiet"));
        while (merge.step())
            bar.report(merge.stepsDone(), merge.steps(), "merging");
        bar.report(merge.stepsDone(), merge.steps(), "merging");
        bar.finish();
    }
    const ProjectStore::ScanInfo info = merge.merged();
    const auto skipped = merge.store().skipped(info.id);
    std::printf("scan %lld: %lld images (%zu skipped) from %d shards, %zu layers, %zu feature sets, %.1f s of "
                "scanning; project %s\n",
                static_cast<long long>(info.id), static_cast<long long>(info.total), skipped.size(), first.shardCount,
                info.layers.size(), info.features.size(), info.seconds, merge.store().dir().c_str());
    return 0;
}

} // namespace

const std::vector<CliCommand> &ScanCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"scan", "top-k patches and images per channel over a dataset, into a project (resumable)", cmdScan},
        {"merge", "merges the shards of a scan (--shard I/N, job arrays, --mpi) into one project, exactly",
         cmdMerge},
        {"top", "top-k patch posters and contact sheets of a scanned layer (PNG/SVG)", cmdTop},
    };
    return commands;
}

} // namespace convscope
