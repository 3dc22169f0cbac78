#include "MapCommands.h"

#include "CliProgressBar.h"
#include "CliSupport.h"
#include "DescriptorIndex.h"
#include "DescriptorPipeline.h"
#include "Error.h"
#include "ImageSource.h"
#include "MapGrid.h"
#include "MapPosterRenderer.h"
#include "NpyFile.h"
#include "Preprocessor.h"
#include "ProjectorExport.h"
#include "Tsne.h"

#include <QFile>
#include <QFileInfo>
#include <QTextStream>

#include <torch/torch.h>

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

int cmdMap(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"layer", "Layer whose features are mapped.", "layer"});
    p.addOption({"descriptor", "fc (fully connected), spoc (average-pooled maps, default for maps) or mac.", "kind"});
    p.addOption({"method", "tsne (default). (UMAP is not built yet.)", "method"});
    p.addOption({"pca", "PCA size before t-SNE (default 50; 0 = none).", "n"});
    p.addOption({"no-normalise", "Do not L2-normalise the features first."});
    p.addOption({"perplexity", "t-SNE perplexity (default 30).", "p"});
    p.addOption({"iterations", "t-SNE iterations (default 750).", "n"});
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
    if (p.isSet("method") && p.value("method") != "tsne")
        throw UsageError("--method: only tsne is available (UMAP is not built yet)");
    const std::string project = p.positionalArguments()[1].toStdString();
    ProjectStore store(project);
    const auto newest = store.latestComplete();
    if (!newest)
        throw DataError("project '" + project + "' holds no complete scan; run `convscope scan` first");
    auto model = Model::load(newest->modelPath);
    DescriptorIndex::Pooling pooling = model->layer(p.value("layer").toStdString()).outputShape.size() == 2
                                           ? DescriptorIndex::Pooling::Flatten
                                           : DescriptorIndex::Pooling::Sum;
    if (p.isSet("descriptor"))
        pooling = DescriptorIndex::parsePooling(p.value("descriptor").toStdString());
    CliProgressBar scanBar("images");
    const auto src = DescriptorIndex::features(project, p.value("layer").toStdString(), pooling, &scanBar);
    torch::Tensor raw = NpyFile::read(src.file).to(torch::kFloat32);
    if (p.isSet("limit"))
        raw = raw.narrow(0, 0, std::min<std::int64_t>(raw.size(0), intOption(p, "limit", 0, 4, 100000000)));
    const torch::Tensor keep = raw.isnan().any(1).logical_not().nonzero().flatten();
    raw = raw.index_select(0, keep);
    DescriptorPipeline::Options po;
    po.pca = intOption(p, "pca", 50, 0, 100000);
    po.normalise = !p.isSet("no-normalise");
    po.renormalise = false;
    DescriptorPipeline pipeline(po);
    pipeline.fit(raw);
    Tsne::Options to;
    to.perplexity = realOption(p, "perplexity", 30, 1, 1000);
    to.iterations = intOption(p, "iterations", 750, 1, 100000);
    const torch::Tensor reduced = pipeline.transform(raw);
    Tsne tsne(reduced, to);
    CliProgressBar bar("iterations");
    while (!tsne.done()) {
        tsne.run(25);
        bar.report(tsne.iteration(), to.iterations, "t-SNE");
    }
    bar.finish();
    const torch::Tensor coords = tsne.embedding();
    auto source = ImageSource::open(src.scan.dataset);
    std::vector<int> labels;
    for (std::int64_t i = 0; i < keep.numel(); ++i)
        labels.push_back(source->label(keep[i].item<std::int64_t>()));
    if (p.isSet("coords")) {
        QFile f(p.value("coords"));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw IoError("cannot write '" + p.value("coords").toStdString() + "': " + f.errorString().toStdString());
        QTextStream s(&f);
        s << "index,name,label,x,y\n";
        for (std::int64_t i = 0; i < coords.size(0); ++i) {
            const std::int64_t id = keep[i].item<std::int64_t>();
            s << id << ',' << q(source->name(id)).replace(',', ' ') << ',' << labels[static_cast<size_t>(i)] << ','
              << coords[i][0].item<float>() << ',' << coords[i][1].item<float>() << '\n';
        }
    }
    if (p.isSet("npy"))
        NpyFile::write(p.value("npy").toStdString(), coords);
    const Preprocessor pre(model->input());
    auto thumbnailOf = [&](std::int64_t i) { return Preprocessor::rgb(pre.fit(source->image(keep[i].item<std::int64_t>()))); };
    if (p.isSet("projector")) {
        std::vector<ProjectorExport::Item> items;
        for (std::int64_t i = 0; i < keep.numel(); ++i) {
            const std::int64_t id = keep[i].item<std::int64_t>();
            const int l = labels[static_cast<size_t>(i)];
            const int predicted = store.image(src.scan.id, id).predicted;
            items.push_back({id, source->name(id), l >= 0 ? model->label(l) : "",
                             predicted >= 0 ? model->label(predicted) : ""});
        }
        const int cell = ProjectorExport::write(
            p.value("projector"), src.layer, reduced, coords, items, [&](std::int64_t i) {
                const torch::Tensor t = (thumbnailOf(i) * 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
                return QImage(t.data_ptr<std::uint8_t>(), static_cast<int>(t.size(1)), static_cast<int>(t.size(0)),
                              static_cast<int>(t.size(1) * 3), QImage::Format_RGB888)
                    .copy();
            });
        std::printf("wrote the projector bundle to %s (sprite cells %d px)\n",
                    p.value("projector").toLocal8Bit().constData(), cell);
    }
    if (p.isSet("o")) {
        MapPosterRenderer::Options ro;
        ro.width = intOption(p, "width", 4000, 256, 32768);
        ro.thumb = intOption(p, "thumb", 28, 0, 512);
        ro.title = QString("t-SNE of %1 (%2), %3 images").arg(q(src.layer), DescriptorIndex::poolingName(pooling)).arg(coords.size(0));
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
    std::printf("mapped %lld images of %s (%s) by t-SNE", static_cast<long long>(coords.size(0)), src.layer.c_str(),
                DescriptorIndex::poolingName(pooling));
    if (accuracy >= 0)
        std::printf("; 10-NN label accuracy in the map %.4f", accuracy);
    std::printf("\n");
    return 0;
}

} // namespace

const std::vector<CliCommand> &MapCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"map", "t-SNE map of a layer's features: coordinates (CSV, .npy) and a thumbnail poster", cmdMap},
    };
    return commands;
}

} // namespace convscope
