#include "cli/MapCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "data/ImageSource.h"
#include "map/DatasetMap.h"
#include "map/MapGrid.h"
#include "render/ImageConversion.h"
#include "scan/ProjectStore.h"
#include "render/MapPosterRenderer.h"
#include "common/NpyFile.h"
#include "data/Preprocessor.h"
#include "render/ProjectorExport.h"

#include <QFile>
#include <QFileInfo>
#include <QTextStream>

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <map>

namespace convscope {

namespace {

using namespace cli;

/// Leave-one-out accuracy of a 10-nearest-neighbour majority vote of the labels in the map (−1 if unlabelled).
double knnAccuracy(const torch::Tensor &coords, const std::vector<int> &labels)
{
    const std::int64_t n = coords.size(0);
    std::int64_t correct = 0, counted = 0;
    for (std::int64_t b = 0; b < n; b += 2048) {
        const std::int64_t m = std::min<std::int64_t>(2048, n - b);
        torch::Tensor d = torch::cdist(coords.narrow(0, b, m), coords);
        for (std::int64_t i = 0; i < m; ++i)
            d[i][b + i] = INFINITY;
        const torch::Tensor nearest = std::get<1>(d.topk(std::min<std::int64_t>(10, n - 1), 1, false));
        for (std::int64_t i = 0; i < m; ++i) {
            if (labels[static_cast<size_t>(b + i)] < 0)
                continue;
            std::map<int, int> votes;
            for (std::int64_t j = 0; j < nearest.size(1); ++j)
                ++votes[labels[static_cast<size_t>(nearest[i][j].item<std::int64_t>())]];
            const int best = std::max_element(votes.begin(), votes.end(), [](auto a, auto b) {
                                 return a.second < b.second;
                             })->first;
            correct += best == labels[static_cast<size_t>(b + i)] ? 1 : 0;
            ++counted;
        }
    }
    return counted ? static_cast<double>(correct) / static_cast<double>(counted) : -1.0;
}

/// The embedding options; their help shows the defaults of Embedder::Options (those the Map tab starts with).
void addEmbeddingOptions(QCommandLineParser &p)
{
    const Embedder::Options d;
    p.addOption({"method", QString("tsne or umap (default %1).").arg(q(Embedder::methodName(d.method))), "method"});
    p.addOption({"perplexity", QString("t-SNE perplexity (default %1).").arg(d.tsne.perplexity), "p"});
    p.addOption({"iterations", QString("t-SNE iterations (default %1).").arg(d.tsne.iterations), "n"});
    p.addOption({"neighbours",
                 QString("UMAP n_neighbors, counting the point itself (default %1).").arg(d.umap.neighbours), "n"});
    p.addOption({"min-dist", QString("UMAP min_dist (default %1).").arg(d.umap.minDist), "d"});
    p.addOption({"epochs", "UMAP epochs (default 500 below 10,000 points, else 200).", "n"});
    p.addOption({"seed", QString("UMAP random seed (default %1).").arg(d.umap.seed), "n"});
}

Embedder::Options embeddingOptions(const QCommandLineParser &p)
{
    Embedder::Options o;
    if (p.isSet("method"))
        o.method = Embedder::parseMethod(p.value("method").toStdString());
    o.tsne.perplexity = realOption(p, "perplexity", o.tsne.perplexity, 1, 1000);
    o.tsne.iterations = intOption(p, "iterations", o.tsne.iterations, 1, 100000);
    o.umap.neighbours = intOption(p, "neighbours", o.umap.neighbours, 2, 1000);
    o.umap.minDist = realOption(p, "min-dist", o.umap.minDist, 0, 100);
    o.umap.epochs = intOption(p, "epochs", o.umap.epochs, 0, 100000);
    o.umap.seed = static_cast<std::uint64_t>(intOption(p, "seed", static_cast<int>(o.umap.seed), 0, 2147483647));
    return o;
}

/// Runs the map with a progress bar; reports how long the graph and the optimisation took.
torch::Tensor optimise(DatasetMap &map)
{
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const std::string name = map.methodTitle();
    std::printf("%s of %lld points × %lld dimensions: neighbour graph…\n", name.c_str(),
                static_cast<long long>(map.reduced().size(0)), static_cast<long long>(map.reduced().size(1)));
    std::fflush(stdout);
    bool more = map.run(0); // the neighbour graph and the start
    const auto t1 = Clock::now();
    CliProgressBar bar(name == "UMAP" ? "epochs" : "iterations");
    while (more) {
        more = map.run(10);
        bar.report(map.step(), map.steps(), name);
    }
    bar.finish();
    const auto t2 = Clock::now();
    std::printf("%s: graph and start %.1f s, optimisation %.1f s\n", name.c_str(),
                std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
    return map.embedding();
}

int cmdMap(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"layer", "Layer whose features are mapped.", "layer"});
    p.addOption({"descriptor", "fc (fully connected), spoc (average-pooled maps, default for maps) or mac.", "kind"});
    addEmbeddingOptions(p);
    p.addOption({"pca", QString("PCA size before t-SNE or UMAP (default %1; 0 = none).").arg(DatasetMap::Options{}.pca),
                 "n"});
    p.addOption({"no-normalise", "Do not L2-normalise the features first."});
    p.addOption({"limit", "Map only the first N images.", "n"});
    p.addOption({"coords", "Write coordinates as CSV (index,name,label,x,y).", "file"});
    p.addOption({"npy", "Write coordinates as an N×2 .npy matrix (rows: the mapped images, in dataset order).", "file"});
    p.addOption({{"o", "output"}, "Poster PNG: every image's thumbnail at its place, framed in its class colour.", "file"});
    p.addOption({"width", "Poster width in pixels (default 4000).", "px"});
    p.addOption({"thumb", "Thumbnail size in pixels (default 28; 0 = dots).", "px"});
    p.addOption({"grid", "Poster as a regular grid of thumbnails (the map snapped to ⌈√N⌉ columns)."});
    p.addOption({"projector", "Also write a TensorBoard-projector bundle (tensors, metadata, sprite, config) into "
                              "this folder.", "dir"});
    if (auto rc = parse(p, args, "A map of the dataset: t-SNE of a layer's per-image features (from the project's "
                                 "scan, or computed now), written as coordinates and a poster of thumbnails.",
                        "PROJECT --layer L --coords map.csv [-o poster.png]", 1, 1))
        return *rc;
    if (!p.isSet("layer"))
        throw UsageError("--layer is required");
    if (!p.isSet("coords") && !p.isSet("npy") && !p.isSet("o") && !p.isSet("projector"))
        throw UsageError("say where the map goes: --coords, --npy, -o and/or --projector");
    const std::string project = p.positionalArguments()[1].toStdString();
    DatasetMap::Options mo;
    mo.layer = p.value("layer").toStdString();
    if (p.isSet("descriptor"))
        mo.pooling = parseDescriptor(p.value("descriptor").toStdString());
    if (p.isSet("limit"))
        mo.limit = intOption(p, "limit", 0, 4, 100000000);
    mo.pca = intOption(p, "pca", mo.pca, 0, 100000);
    mo.normalise = !p.isSet("no-normalise");
    mo.embedding = embeddingOptions(p);
    CliProgressBar scanBar("images");
    DatasetMap map(project, mo, &scanBar);
    const torch::Tensor coords = optimise(map);
    const torch::Tensor &reduced = map.reduced();
    const QString methodTitle = q(map.methodTitle());
    const auto &src = map.source();
    const FeaturePooling pooling = src.pooling;
    ProjectStore store(project);
    auto model = Model::load(src.scan.modelPath);
    auto source = ImageSource::open(src.scan.dataset);
    const std::vector<std::int64_t> &keep = map.images();
    std::vector<int> labels;
    for (const std::int64_t id : keep)
        labels.push_back(source->label(id));
    if (p.isSet("coords")) {
        QFile f(p.value("coords"));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw IoError("cannot write '" + p.value("coords").toStdString() + "': " + f.errorString().toStdString());
        QTextStream s(&f);
        s << "index,name,label,x,y\n";
        for (std::int64_t i = 0; i < coords.size(0); ++i) {
            const std::int64_t id = keep[static_cast<size_t>(i)];
            s << id << ',' << q(source->name(id)).replace(',', ' ') << ',' << labels[static_cast<size_t>(i)] << ','
              << coords[i][0].item<float>() << ',' << coords[i][1].item<float>() << '\n';
        }
    }
    if (p.isSet("npy"))
        NpyFile::write(p.value("npy").toStdString(), coords);
    const Preprocessor pre(model->input());
    auto thumbnailOf = [&](std::int64_t i) {
        return Preprocessor::rgb(pre.fit(source->image(keep[static_cast<size_t>(i)])));
    };
    if (p.isSet("projector")) {
        std::vector<ProjectorExport::Item> items;
        for (size_t i = 0; i < keep.size(); ++i) {
            const std::int64_t id = keep[i];
            const int l = labels[i];
            const int predicted = store.image(src.scan.id, id).predicted;
            items.push_back({id, source->name(id), l >= 0 ? model->label(l) : "",
                             predicted >= 0 ? model->label(predicted) : ""});
        }
        const int cell = ProjectorExport::write(
            p.value("projector"), src.layer, reduced, coords, items,
            [&](std::int64_t i) { return ImageConversion::fromTensor(thumbnailOf(i)); });
        std::printf("wrote the projector bundle to %s (sprite cells %d px)\n",
                    p.value("projector").toLocal8Bit().constData(), cell);
    }
    if (p.isSet("o")) {
        MapPosterRenderer::Options ro;
        ro.width = intOption(p, "width", 4000, 256, 32768);
        ro.thumb = intOption(p, "thumb", 28, 0, 512);
        ro.title = QString("%4 of %1 (%2), %3 images").arg(q(src.layer), descriptorName(pooling)).arg(coords.size(0)).arg(methodTitle);
        std::vector<std::string> names;
        for (int c = 0; c < model->numClasses(); ++c)
            names.push_back(model->label(c));
        if (p.isSet("grid"))
            ro.title += " · grid";
        const QImage poster = MapPosterRenderer::render(p.isSet("grid") ? MapGrid::snap(coords) : coords, thumbnailOf,
                                                        labels, names, ro);
        if (!poster.save(p.value("o")))
            throw IoError("cannot write '" + p.value("o").toStdString() + "'");
    }
    const double accuracy = knnAccuracy(coords, labels);
    std::printf("mapped %lld images of %s (%s) by %s", static_cast<long long>(coords.size(0)), src.layer.c_str(),
                descriptorName(pooling), methodTitle.toLocal8Bit().constData());
    if (accuracy >= 0)
        std::printf("; 10-NN label accuracy in the map %.4f", accuracy);
    std::printf("\n");
    return 0;
}

int cmdEmbed(const QStringList &args)
{
    QCommandLineParser p;
    addEmbeddingOptions(p);
    p.addOption({"pca", "PCA size first (default 0 = use the columns as they are).", "n"});
    p.addOption({"normalise", "L2-normalise the rows first."});
    p.addOption({"dims", "UMAP: 2 (default) or 3 dimensions.", "n"});
    p.addOption({"labels", "N integer labels (.npy): print the map's 10-NN label accuracy.", "file"});
    p.addOption({{"o", "output"}, "Coordinates as an N×2 (or N×3) float32 .npy matrix.", "file"});
    p.addOption({"csv", "Coordinates as CSV (index,x,y[,z]).", "file"});
    if (auto rc = parse(p, args, "t-SNE or UMAP of any feature matrix (.npy, rows = points), e.g. features "
                                 "exported from Convscope or elsewhere.",
                        "FEATURES.npy -o coords.npy [--method umap]", 1, 1))
        return *rc;
    if (!p.isSet("o") && !p.isSet("csv"))
        throw UsageError("say where the coordinates go: -o and/or --csv");
    torch::Tensor x = NpyFile::read(p.positionalArguments()[1].toStdString());
    if (x.dim() != 2)
        throw DataError("the features must be a 2-D matrix (rows = points)");
    DatasetMap::Options mo;
    mo.pca = intOption(p, "pca", 0, 0, 100000);
    mo.normalise = p.isSet("normalise");
    mo.embedding = embeddingOptions(p);
    mo.embedding.umap.dimensions = intOption(p, "dims", 2, 2, 3);
    if (mo.embedding.umap.dimensions == 3 && mo.embedding.method != Embedder::Method::Umap)
        throw UsageError("--dims 3 is available for UMAP");
    DatasetMap map(x, mo);
    const torch::Tensor coords = optimise(map);
    if (p.isSet("o"))
        NpyFile::write(p.value("o").toStdString(), coords);
    if (p.isSet("csv")) {
        QFile f(p.value("csv"));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw IoError("cannot write '" + p.value("csv").toStdString() + "': " + f.errorString().toStdString());
        QTextStream s(&f);
        s << (coords.size(1) == 3 ? "index,x,y,z\n" : "index,x,y\n");
        for (std::int64_t i = 0; i < coords.size(0); ++i) {
            s << i;
            for (std::int64_t c = 0; c < coords.size(1); ++c)
                s << ',' << coords[i][c].item<float>();
            s << '\n';
        }
    }
    if (p.isSet("labels")) {
        const torch::Tensor l = NpyFile::read(p.value("labels").toStdString()).to(torch::kInt64).flatten();
        if (l.numel() != coords.size(0))
            throw DataError("--labels holds " + std::to_string(l.numel()) + " labels for " +
                            std::to_string(coords.size(0)) + " points");
        std::vector<int> labels(l.data_ptr<std::int64_t>(), l.data_ptr<std::int64_t>() + l.numel());
        std::printf("10-NN label accuracy in the map %.4f\n", knnAccuracy(coords, labels));
    }
    return 0;
}

} // namespace

const std::vector<CliCommand> &MapCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"map", "t-SNE or UMAP map of a layer's features: coordinates (CSV, .npy), a thumbnail poster, a projector "
                "bundle", cmdMap},
        {"embed", "t-SNE or UMAP of a feature matrix (.npy) to coordinates", cmdEmbed},
    };
    return commands;
}

} // namespace convscope
