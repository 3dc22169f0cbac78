#include "cli/AdaptCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "search/DescriptorAdaptation.h"
#include "search/DescriptorCompression.h"
#include "search/RetrievalExamples.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "render/TileGridRenderer.h"

#include <QFile>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace convscope {

namespace {

using namespace cli;

void printTable(const std::vector<DescriptorAdaptation::Row> &rows, QString &csv)
{
    std::printf("\n%-58s %6s  %7s  %6s\n", "descriptor", "dims", "mAP", "P@10");
    for (const auto &r : rows) {
        std::printf("%-58s %6lld  %7.4f  %6.4f\n", r.descriptor.c_str(), static_cast<long long>(r.dims),
                    r.result.map, r.result.precisionAtK);
        csv += QString("%1,%2,%3,%4,%5\n")
                   .arg(csvQuoted(r.descriptor))
                   .arg(r.dims)
                   .arg(r.result.map, 0, 'f', 6)
                   .arg(r.result.precisionAtK, 0, 'f', 6)
                   .arg(r.result.queries);
    }
}

void printCompression(const char *which, const std::vector<DescriptorCompression::Row> &rows, QString &csv)
{
    std::printf("\n%-9s %-8s %6s %7s  %7s  %6s\n", which, "method", "dims", "bytes", "mAP", "P@10");
    for (const auto &r : rows) {
        std::printf("%-9s %-8s %6lld %7lld  %7.4f  %6.4f\n", which, r.method.c_str(), static_cast<long long>(r.dims),
                    static_cast<long long>(r.bytes), r.result.map, r.result.precisionAtK);
        csv += QString("%1,%2,%3,%4,%5,%6\n")
                   .arg(which, q(r.method))
                   .arg(r.dims)
                   .arg(r.bytes)
                   .arg(r.result.map, 0, 'f', 6)
                   .arg(r.result.precisionAtK, 0, 'f', 6);
    }
}

void addOptions(QCommandLineParser &p)
{
    const DescriptorAdaptation::Options d;
    p.addOption({"layer", "Layer whose descriptor is adapted (path, friendly name or index).", "layer"});
    p.addOption({"descriptor", "fc, spoc or mac (default: fc for vectors, spoc for maps).", "name"});
    p.addOption({"loss", "contrastive (default) or triplet.", "loss"});
    p.addOption({"margin", "Loss margin (default 0.2 triplet, on squared distances; 0.7 contrastive).", "m"});
    p.addOption({"mining", "Negatives: hard (default), semihard or random.", "rule"});
    p.addOption({"epochs", QString("Training epochs (default %1).").arg(d.training.epochs), "n"});
    p.addOption({"dims", QString("Descriptor size (default %1).").arg(d.head.dims), "n"});
    p.addOption({"hidden", QString("Width of the head's residual hidden layer; 0 = linear (default %1).")
                               .arg(d.head.hidden),
                 "n"});
    p.addOption({"batch", QString("Images per step (default %1).").arg(d.training.batch), "n"});
    p.addOption({"learning-rate", "Adam step size (default 0.001).", "r"});
    p.addOption({"seed", "Seed of batches, negatives and the head's start (default 1).", "n"});
    p.addOption({"train-classes", "Train on these classes (e.g. 0-4), test on the unseen others.", "list"});
    p.addOption({"train-fraction", "Train on this share of every class, test on the rest (default 0.5).", "f"});
    p.addOption({"queries", "Test queries per evaluation (default 1000).", "n"});
    p.addOption({"ann", "Adapted index: exact (default), hnsw or ivfpq.", "kind"});
    p.addOption({"name", "Name of the adaptation and of its index (required).", "name"});
    p.addOption({"fine-tune-blocks", "Also fine-tune the network's last K layers with weights up to the layer (and "
                                     "their batch norms), end to end on the images (slower; default 0: the head only).",
                 "k"});
    p.addOption({"backbone-learning-rate", "Adam step size of the fine-tuned layers (default 0.0001).", "r"});
    p.addOption({"resume", "Continue the saved adaptation NAME from its last finished epoch (to --epochs in all)."});
    p.addOption({"no-compression", "Skip the compression table (PCA sizes and product quantisation)."});
    p.addOption({"csv", "Write the before/after and compression tables as CSV.", "file"});
    p.addOption({"history", "Write the loss and test mAP of every epoch as CSV.", "file"});
    p.addOption({"grid", "Write before/after results for the same test queries as a grid (PNG or SVG).", "file"});
    p.addOption({"grid-queries", "Queries (rows) of the grid (default 6).", "n"});
}

DescriptorAdaptation::Options readOptions(const QCommandLineParser &p)
{
    DescriptorAdaptation::Options o;
    o.name = p.value("name").toStdString();
    if (o.name.empty())
        throw UsageError("adapt needs --name: the adaptation and its index are saved under it");
    if (!p.isSet("layer"))
        throw UsageError("adapt needs --layer: the layer whose descriptor is adapted");
    o.layer = p.value("layer").toStdString();
    if (p.isSet("descriptor"))
        o.pooling = parseDescriptor(p.value("descriptor").toStdString());
    if (p.isSet("loss"))
        o.training.loss.kind = MetricLoss::parseKind(p.value("loss").toStdString());
    o.training.loss.margin = static_cast<float>(realOption(p, "margin", 0, 1e-6, 4));
    if (p.isSet("mining"))
        o.training.loss.mining = MetricLoss::parseMining(p.value("mining").toStdString());
    o.training.epochs = intOption(p, "epochs", o.training.epochs, 1, 100000);
    o.head.dims = intOption(p, "dims", o.head.dims, 1, 65536);
    o.head.hidden = intOption(p, "hidden", o.head.hidden, 0, 65536);
    o.training.batch = intOption(p, "batch", o.training.batch, 4, 1 << 20);
    o.training.learningRate = realOption(p, "learning-rate", o.training.learningRate, 1e-9, 10);
    o.training.seed = static_cast<std::uint64_t>(intOption(p, "seed", 1, 0, 2147483647));
    if (p.isSet("train-classes") && p.isSet("train-fraction"))
        throw UsageError("choose --train-classes (unseen classes) or --train-fraction (ordinary split), not both");
    if (p.isSet("train-classes"))
        o.split.trainClasses = AdaptationSplit::parseClasses(p.value("train-classes").toStdString());
    o.split.trainFraction = realOption(p, "train-fraction", o.split.trainFraction, 1e-6, 1 - 1e-6);
    o.evaluation.queries = intOption(p, "queries", o.evaluation.queries, 1, 10000000);
    const QString ann = p.value("ann");
    if (!ann.isEmpty() && ann != "exact")
        o.ann = ann.toStdString();
    o.fineTuneBlocks = intOption(p, "fine-tune-blocks", 0, 0, 1000);
    o.training.backboneLearningRate =
        realOption(p, "backbone-learning-rate", o.training.backboneLearningRate, 1e-12, 10);
    o.resume = p.isSet("resume");
    return o;
}

int cmdAdapt(const QStringList &args)
{
    QCommandLineParser p;
    addOptions(p);
    if (auto rc = parse(p, args, "Adapts a layer's descriptor to the project's labelled images: a projection head "
                                 "trained with a triplet or contrastive loss on the stored features, scored on held-out "
                                 "test images before and after (mAP, precision@10), saved as a TorchScript model "
                                 "(PROJECT/adapt-NAME/model.pt) and as the search index NAME.",
                        "PROJECT", 1, 1))
        return *rc;
    const std::string project = p.positionalArguments()[1].toStdString();
    const DescriptorAdaptation::Options o = readOptions(p);
    CliProgressBar features("images");
    DescriptorAdaptation adaptation(project, o, &features);
    features.finish();
    std::printf("%s\n", adaptation.split().describe().c_str());
    const auto before = adaptation.table();
    std::printf("before: %s  mAP %.4f  P@10 %.4f\n", before[1].descriptor.c_str(), before[1].result.map,
                before[1].result.precisionAtK);
    for (const auto &e : adaptation.history())
        std::printf("epoch %3d (saved)  loss %.4f  active %.3f  test mAP %.4f  P@10 %.4f\n", e.epoch, e.loss,
                    e.active, e.test.map, e.test.precisionAtK);
    while (adaptation.finishedEpochs() < adaptation.epochs()) {
        CliProgressBar bar("steps", true);
        adaptation.run(&bar);
        const auto &e = adaptation.history().back();
        std::printf("epoch %3d  loss %.4f  active %.3f  test mAP %.4f  P@10 %.4f\n", e.epoch, e.loss, e.active,
                    e.test.map, e.test.precisionAtK);
        std::fflush(stdout);
    }
    CliProgressBar writing("steps", true);
    QString csv = "descriptor,dims,map,precision_at_10,queries\n";
    printTable(adaptation.finish(&writing), csv);
    if (!p.isSet("no-compression")) {
        csv += "\nset,method,dims,bytes,map,precision_at_10\n";
        DescriptorCompression::Options co;
        co.evaluation = o.evaluation;
        const auto trainRows = adaptation.split().rows(AdaptationSplit::Role::Train);
        const auto testLabels = adaptation.split().testLabels();
        printCompression("original",
                         DescriptorCompression::table(adaptation.originalDescriptors(), trainRows, testLabels, co),
                         csv);
        printCompression("adapted",
                         DescriptorCompression::table(adaptation.adaptedDescriptors(), trainRows, testLabels, co),
                         csv);
    }
    std::printf("\nmodel %s\nindex '%s' (search it with `convscope search %s --index %s IMAGE`)\n",
                adaptation.modelPath().c_str(), o.name.c_str(), project.c_str(), o.name.c_str());
    if (p.isSet("csv"))
        writeText(p.value("csv"), csv);
    if (p.isSet("grid")) {
        RetrievalExamples::Options eo;
        eo.queries = intOption(p, "grid-queries", eo.queries, 1, 1000);
        const auto examples = RetrievalExamples::find(adaptation.originalDescriptors(),
                                                      adaptation.adaptedDescriptors(),
                                                      adaptation.split().testLabels(), eo);
        auto model = Model::load(adaptation.modelPath());
        auto source = ImageSource::open(adaptation.dataset());
        // Captions name the dataset's classes (its folders), else the model's labels.
        const auto names = source->classNames().empty() ? model->sidecar().labels : source->classNames();
        const TileSet tiles = RetrievalExamples::grid(examples, *source, model->input(), names);
        TileGridRenderer::Options go;
        // Tiles of about 96 px, a whole multiple of small images' size (sharp pixels), so captions fit.
        const int native = model->input().width;
        const int side = native < 96 ? native * std::max(1, (96 + native / 2) / native) : 96;
        go.width = tiles.columns * (side + go.gap) + go.gap;
        TileGridRenderer(go).write(tiles, p.value("grid"));
        std::printf("before/after grid %s\n", p.value("grid").toStdString().c_str());
    }
    if (p.isSet("history")) {
        QString h = "epoch,loss,active,map,precision_at_10\n";
        for (const auto &e : adaptation.history())
            h += QString("%1,%2,%3,%4,%5\n")
                     .arg(e.epoch)
                     .arg(e.loss, 0, 'f', 6)
                     .arg(e.active, 0, 'f', 6)
                     .arg(e.test.map, 0, 'f', 6)
                     .arg(e.test.precisionAtK, 0, 'f', 6);
        writeText(p.value("history"), h);
    }
    return 0;
}

} // namespace

const std::vector<CliCommand> &AdaptCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"adapt", "adapt a layer's descriptor to the project's classes (triplet/contrastive head; before/after "
                  "retrieval, compression; model + index)",
         cmdAdapt},
    };
    return commands;
}

} // namespace convscope
