#include "cli/SearchCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "search/DescriptorIndex.h"
#include "common/Error.h"
#include "data/ImageReference.h"
#include "data/ImageSource.h"
#include "common/NpyFile.h"
#include "data/Preprocessor.h"
#include "search/DescriptorAdaptation.h"
#include "search/RetrievalEvaluator.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QTextStream>

#include <opencv2/core.hpp>

#include <cstdio>

namespace convscope {

namespace {

using namespace cli;

DescriptorPipeline::Options pipelineOptions(const QCommandLineParser &p, int pca)
{
    DescriptorPipeline::Options o;
    o.pca = pca;
    o.whiten = p.isSet("whiten");
    return o;
}

int cmdIndex(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"layer", "Layer whose outputs describe the images.", "layer"});
    p.addOption({"descriptor", "fc (fully connected output), spoc (sum-pooled maps, default for maps) or mac "
                               "(max-pooled maps).", "kind"});
    p.addOption({"pca", "PCA size (default 128; 0 = no PCA).", "n"});
    p.addOption({"whiten", "PCA-whitening: every component scaled to unit variance."});
    p.addOption({"metric", "l2 (default), cosine or l1 (l1: exact search only).", "metric"});
    p.addOption({"ann", "Approximate search: hnsw or ivfpq (default: exact search).", "kind"});
    p.addOption({"name", "Index name (default: LAYER-DESCRIPTOR-PCA[-ANN]).", "name"});
    p.addOption({"add", "Add image files to an existing index (--name, or the newest) without rebuilding it; the "
                        "files follow the project.", ""});
    if (auto rc = parse(p, args, "Builds a similar-image search index in a project: descriptors of every dataset "
                                 "image from a layer (from the scan's features, or a features scan run now), "
                                 "L2-normalised, PCA-compressed, re-normalised.",
                        "PROJECT --layer L [--descriptor fc|spoc|mac] [--pca 128] [--ann hnsw|ivfpq] | PROJECT --add "
                        "FILE...", 1))
        return *rc;
    if (p.isSet("add")) {
        const QStringList pos = p.positionalArguments();
        if (pos.size() < 3)
            throw UsageError("--add needs image files after the project");
        DescriptorIndex index = DescriptorIndex::open(pos[1].toStdString(), p.value("name").toStdString());
        auto model = Model::load(index.modelPath());
        std::vector<std::string> files, skipped;
        for (int i = 2; i < pos.size(); ++i)
            files.push_back(pos[i].toStdString());
        const auto ids = index.addFiles(*model, files, &skipped);
        for (const auto &s : skipped)
            std::fprintf(stderr, "skipped %s\n", s.c_str());
        std::printf("index '%s': added %zu images, %lld in all\n", index.name().c_str(), ids.size(),
                    static_cast<long long>(index.size()));
        return skipped.empty() ? 0 : 1;
    }
    if (p.positionalArguments().size() != 2)
        throw UsageError("expected PROJECT (image files go with --add)");
    if (!p.isSet("layer"))
        throw UsageError("--layer is required");
    const std::string project = p.positionalArguments()[1].toStdString();
    DescriptorIndex::Options o;
    o.layer = p.value("layer").toStdString();
    o.pipeline = pipelineOptions(p, intOption(p, "pca", 128, 0, 100000));
    if (p.isSet("descriptor")) // else fc for fully connected layers, spoc for maps
        o.pooling = parseDescriptor(p.value("descriptor").toStdString());
    if (p.isSet("metric"))
        o.metric = SearchIndex::parseMetric(p.value("metric").toStdString());
    o.ann = p.value("ann").toStdString();
    if (!o.ann.empty() && o.ann != "hnsw" && o.ann != "ivfpq")
        throw UsageError("--ann must be hnsw or ivfpq");
    o.name = p.value("name").toStdString();
    CliProgressBar bar("images");
    const DescriptorIndex index = DescriptorIndex::build(project, o, &bar);
    bar.finish();
    std::printf("index '%s': %lld images, %lld-d %s descriptors of %s, %s search (%s)\n", index.name().c_str(),
                static_cast<long long>(index.size()), static_cast<long long>(index.index().dims()),
                descriptorName(index.pooling()), index.layer().c_str(), index.index().kind().c_str(),
                SearchIndex::metricName(index.index().metric()));
    const auto &ev = index.pipeline().explainedVariance();
    if (ev.defined() && index.pipeline().outputDims() > 0)
        std::printf("PCA keeps %.1f%% of the variance\n",
                    100.0 * ev[index.pipeline().outputDims() - 1].item<double>());
    return 0;
}

/// "x,y,w,h" in the query image's pixels.
cv::Rect regionOption(const QString &text, const cv::Mat &image)
{
    const QStringList parts = text.split(',');
    bool ok = parts.size() == 4;
    int v[4] = {0, 0, 0, 0};
    for (int i = 0; ok && i < 4; ++i)
        v[i] = parts[i].trimmed().toInt(&ok);
    const cv::Rect r(v[0], v[1], v[2], v[3]);
    if (!ok || r.width < 1 || r.height < 1 || r.x < 0 || r.y < 0 || r.x + r.width > image.cols ||
        r.y + r.height > image.rows)
        throw UsageError("--region must be x,y,w,h inside the " + std::to_string(image.cols) + "×" +
                         std::to_string(image.rows) + " query image");
    return r;
}

int cmdSearch(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({{"k", "top"}, "Results per query (default 20).", "k"});
    p.addOption({"index", "Index name (default: the newest in the project).", "name"});
    p.addOption({"region", "Search by a region of the query image: x,y,w,h in its pixels.", "x,y,w,h"});
    p.addOption({"why", "For pooled conv descriptors: the channels that make each result similar."});
    p.addOption({"json", "Print JSON."});
    if (auto rc = parse(p, args, "Finds the dataset images most similar to each query (a file or DATASET#INDEX).",
                        "PROJECT QUERY... [-k 20] [--json]", 2))
        return *rc;
    const QStringList pos = p.positionalArguments();
    const std::string project = pos[1].toStdString();
    const DescriptorIndex index = DescriptorIndex::open(project, p.value("index").toStdString());
    auto model = Model::load(index.modelPath());
    auto source = ImageSource::open(index.dataset());
    const int k = intOption(p, "k", 20, 1, 10000);
    const Preprocessor pre(model->input());
    const torch::Tensor stored = p.isSet("why") ? index.datasetFeatures() : torch::Tensor(); // read once
    QJsonArray all;
    for (int qi = 2; qi < pos.size(); ++qi) {
        ImageReference ref = ImageReference::load(pos[qi].toStdString());
        std::int64_t self = -1; // a dataset image does not find itself
        if (const auto hash = pos[qi].lastIndexOf('#'); hash > 0 &&
            QFileInfo(pos[qi].left(hash)).absoluteFilePath() == QFileInfo(QString::fromStdString(index.dataset())).absoluteFilePath())
            self = pos[qi].mid(hash + 1).toLongLong();
        cv::Mat image = ref.image;
        if (p.isSet("region")) {
            image = image(regionOption(p.value("region"), image)).clone();
            self = -1;
        }
        const torch::Tensor raw = index.rawFeatures(*model, pre.tensor(image).unsqueeze(0));
        const auto hits = index.search(raw, k, self).at(0);
        QJsonArray results;
        if (!p.isSet("json"))
            std::printf("%s%s\n", ref.name.c_str(), p.isSet("region") ? (" region " + p.value("region").toStdString()).c_str() : "");
        int rank = 0;
        for (const auto &h : hits) {
            const bool added = h.image >= DescriptorIndex::firstAddedId();
            const int label = added ? -1 : source->label(h.image);
            const std::string name = added ? index.addedPath(h.image) : source->name(h.image);
            QJsonObject r{{"rank", ++rank}, {"image", static_cast<qint64>(h.image)},
                          {"name", q(name)}, {"distance", static_cast<double>(h.distance)},
                          {"label", label}, {"class", label >= 0 ? q(model->label(label)) : QString()}};
            std::string why;
            if (stored.defined() && !added) {
                QJsonArray channels;
                for (const auto &c : index.whySimilar(raw[0], stored[h.image], 3)) {
                    channels.append(QJsonObject{{"channel", c.channel}, {"share", static_cast<double>(c.share)}});
                    char text[48];
                    std::snprintf(text, sizeof text, "%s%d (%.0f%%)", why.empty() ? "" : ", ", c.channel,
                                  100.0 * c.share);
                    why += text;
                }
                r.insert("why", channels);
            }
            results.append(r);
            if (!p.isSet("json"))
                std::printf("%4d  %8.4f  %-12s %s%s\n", rank, static_cast<double>(h.distance),
                            label >= 0 ? model->label(label).c_str() : "-", name.c_str(),
                            why.empty() ? "" : ("  channels " + why).c_str());
        }
        all.append(QJsonObject{{"query", pos[qi]}, {"index", q(index.name())}, {"results", results}});
    }
    if (p.isSet("json"))
        printJson(all);
    return 0;
}

/// `eval-retrieval --adapted`: each adaptation's before/after table, scored again on its own test images.
int compareAdapted(const std::string &project, const QStringList &names, const QString &csvPath)
{
    QString csv = "adaptation,descriptor,dims,map,precision_at_10,queries\n";
    for (const QString &name : names) {
        const DescriptorAdaptation a(project, DescriptorAdaptation::savedOptions(project, name.trimmed().toStdString()));
        std::printf("%s — %s, %d of %d epochs\n", name.trimmed().toStdString().c_str(),
                    a.split().describe().c_str(), a.finishedEpochs(), a.epochs());
        for (const auto &r : a.table()) {
            std::printf("  %-58s %6lld  mAP %7.4f  P@10 %6.4f\n", r.descriptor.c_str(), static_cast<long long>(r.dims),
                        r.result.map, r.result.precisionAtK);
            csv += QString("%1,%2,%3,%4,%5,%6\n")
                       .arg(csvQuoted(name.trimmed().toStdString()), csvQuoted(r.descriptor))
                       .arg(r.dims)
                       .arg(r.result.map, 0, 'f', 6)
                       .arg(r.result.precisionAtK, 0, 'f', 6)
                       .arg(r.result.queries);
        }
    }
    if (!csvPath.isEmpty())
        writeText(csvPath, csv);
    return 0;
}

int cmdEvalRetrieval(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"layers", "Layers to compare (default: every layer whose features the scans kept).", "a,b"});
    p.addOption({"descriptors", "Descriptors for map layers: spoc,mac (default both).", "list"});
    p.addOption({"pca", "PCA sizes to compare (default 0,32,128; 0 = no PCA).", "list"});
    p.addOption({"whiten", "PCA-whitening."});
    p.addOption({"queries", "Queries drawn from the dataset (default 1000).", "n"});
    p.addOption({"metric", "l2 (default), cosine or l1.", "metric"});
    p.addOption({"csv", "Also write the table as CSV.", "file"});
    p.addOption({"adapted", "Instead: compare adapted descriptors (names from `convscope adapt`) with the original "
                            "ones on each adaptation's held-out test images.",
                 "a,b"});
    if (auto rc = parse(p, args, "Which layer describes best: mean average precision and precision@10 of "
                                 "similar-image search for each layer × descriptor × PCA size, with the dataset's "
                                 "classes as relevance (leave-one-out).",
                        "PROJECT", 1, 1))
        return *rc;
    const std::string project = p.positionalArguments()[1].toStdString();
    if (p.isSet("adapted"))
        return compareAdapted(project, p.value("adapted").split(',', Qt::SkipEmptyParts),
                              p.isSet("csv") ? p.value("csv") : QString());
    RetrievalEvaluator::Comparison c;
    if (p.isSet("pca")) {
        c.pcaSizes.clear();
        for (const QString &s : p.value("pca").split(',', Qt::SkipEmptyParts))
            c.pcaSizes.push_back(s.trimmed().toInt());
    }
    if (p.isSet("descriptors")) {
        c.descriptors.clear();
        for (const QString &d : p.value("descriptors").split(',', Qt::SkipEmptyParts))
            c.descriptors.push_back(d.trimmed().toStdString());
    }
    if (p.isSet("layers"))
        for (const QString &l : p.value("layers").split(',', Qt::SkipEmptyParts))
            c.layers.push_back(l.trimmed().toStdString());
    c.whiten = p.isSet("whiten");
    RetrievalEvaluator::Options eo;
    eo.queries = intOption(p, "queries", 1000, 1, 10000000);
    if (p.isSet("metric"))
        eo.metric = SearchIndex::parseMetric(p.value("metric").toStdString());
    std::printf("%-22s %-5s %5s %6s  %7s  %6s\n", "layer", "desc", "pca", "dims", "mAP", "P@10");
    QString csv = "layer,descriptor,pca,dims,map,precision_at_10,queries\n";
    for (const auto &r : RetrievalEvaluator::compare(project, c, eo)) {
        std::printf("%-22s %-5s %5s %6lld  %7.4f  %6.4f\n", r.layer.c_str(), r.descriptor.c_str(),
                    r.pca > 0 ? std::to_string(r.pca).c_str() : "-", static_cast<long long>(r.dims), r.result.map,
                    r.result.precisionAtK);
        csv += QString("%1,%2,%3,%4,%5,%6,%7\n")
                   .arg(q(r.layer), q(r.descriptor))
                   .arg(r.pca)
                   .arg(r.dims)
                   .arg(r.result.map, 0, 'f', 6)
                   .arg(r.result.precisionAtK, 0, 'f', 6)
                   .arg(r.result.queries);
    }
    if (p.isSet("csv")) {
        QFile f(p.value("csv"));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(csv.toUtf8()) < 0)
            throw IoError("cannot write '" + p.value("csv").toStdString() + "': " + f.errorString().toStdString());
    }
    return 0;
}

} // namespace

const std::vector<CliCommand> &SearchCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"index", "a similar-image search index of a project's images (fc, SPoC or MAC descriptors, PCA)", cmdIndex},
        {"search", "the dataset images most similar to query images or regions", cmdSearch},
        {"eval-retrieval", "mAP and precision@10 per layer × descriptor × PCA size (which layer describes best)",
         cmdEvalRetrieval},
    };
    return commands;
}

} // namespace convscope
