#include "cli/CompareCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "common/TextFormat.h"
#include "compare/ModelComparison.h"
#include "model/LayerInfo.h"
#include "render/ComparisonChartRenderer.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

#include <cmath>
#include <cstdio>

namespace convscope {

namespace {

using namespace cli;

std::string percent(double v) { return std::isfinite(v) ? QString::number(100 * v, 'f', 2).toStdString() : "-"; }
std::string number(double v, int decimals)
{
    return std::isfinite(v) ? QString::number(v, 'f', decimals).toStdString() : "-";
}
std::string megabytes(std::int64_t bytes) { return bytes > 0 ? number(bytes / 1048576.0, 1) : "-"; }

/// "40x40" for a local field, "whole" for one that sees the whole image, "-" without convolutions.
std::string fieldText(const ModelComparison::Row &r)
{
    if (r.lastConv.empty())
        return "-";
    if (r.lastConvField.scope == ReceptiveField::Scope::Global)
        return "whole";
    return std::to_string(r.lastConvField.y.size) + "x" + std::to_string(r.lastConvField.x.size);
}

QString csvNumber(double v, int decimals) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : QString(); }

int cmdCompare(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"dataset", "Labelled dataset every model is evaluated on (idx file, folder of class folders).",
                 "path"});
    p.addOption({"limit", "Evaluate on the first N images only.", "n"});
    p.addOption({"batch", "Images per forward pass for accuracy (default 100, as `evaluate`).", "n"});
    p.addOption({"top", "k of the top-k accuracy column (default 5).", "k"});
    p.addOption({"rounds", "Timing rounds; every model runs in each round, medians are reported (default 5).", "n"});
    p.addOption({"throughput-batch", "Batch size for images per second (default 32).", "n"});
    p.addOption({"no-timing", "Skip the speed measurements."});
    p.addOption({"csv", "Also write the table as CSV.", "file"});
    p.addOption({{"o", "output"}, "Write the accuracy-against-multiply-adds chart (.png or .svg).", "file"});
    p.addOption({"json", "Print the table as JSON."});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "Compares models on one labelled dataset: parameters and multiply-adds per image (as "
                                 "`info`), top-1/top-k accuracy (as `evaluate`), ms per image at batch 1 and images/s "
                                 "at batch 32 (interleaved runs, same threads), peak tensor memory, the last "
                                 "convolution's receptive field, and the share of multiply-adds in depthwise, "
                                 "pointwise (1x1) and full convolutions and fully connected layers.",
                        "MODEL... --dataset D", 1))
        return *rc;
    if (!p.isSet("dataset"))
        throw UsageError("--dataset is required: the labelled images every model is evaluated on");
    if (p.isSet("o")) {
        const QString suffix = QFileInfo(p.value("o")).suffix().toLower();
        if (suffix != "png" && suffix != "svg")
            throw UsageError("the chart is written as .png or .svg, not '" + p.value("o").toStdString() + "'");
    }
    std::vector<std::string> models;
    for (int i = 1; i < p.positionalArguments().size(); ++i)
        models.push_back(p.positionalArguments()[i].toStdString());
    ModelComparison::Options o;
    o.limit = p.isSet("limit") ? intOption(p, "limit", -1, 1, 2'000'000'000) : -1;
    o.evaluationBatch = intOption(p, "batch", 100, 1, 4096);
    o.topK = intOption(p, "top", 5, 1, 1000);
    o.rounds = intOption(p, "rounds", 5, 1, 1000);
    o.throughputBatch = intOption(p, "throughput-batch", 32, 1, 4096);
    o.timing = !p.isSet("no-timing");

    ModelComparison comparison(models, p.value("dataset").toStdString(), o);
    std::fprintf(stderr, "dataset: %s\n", comparison.datasetDescription().c_str());
    {
        CliProgressBar bar("steps", p.isSet("quiet") || p.isSet("json"));
        while (!comparison.run(&bar)) {
        }
    }
    const auto &rows = comparison.rows();
    const std::string topName = "top-" + std::to_string(o.topK);
    int failures = 0;
    for (const auto &r : rows)
        failures += r.ok() ? 0 : 1;

    if (p.isSet("json")) {
        QJsonArray list;
        for (const auto &r : rows) {
            auto num = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); };
            list.append(QJsonObject{
                {"model", q(r.path)}, {"name", q(r.name)}, {"format", q(r.format)}, {"error", q(r.error)},
                {"accuracy_note", q(r.accuracyNote)}, {"throughput_note", q(r.throughputNote)}, {"params", static_cast<qint64>(r.params)},
                {"macs", static_cast<qint64>(r.macs)}, {"classes", r.classes},
                {"input", QJsonObject{{"width", r.inputWidth}, {"height", r.inputHeight}, {"channels", r.inputChannels}}},
                {"images", static_cast<qint64>(r.evaluated)}, {"labelled", static_cast<qint64>(r.labelled)},
                {"top1", num(r.top1)}, {"topk", num(r.topK)}, {"ms_per_image", num(r.msPerImage)},
                {"images_per_second", num(r.imagesPerSecond)}, {"weight_bytes", static_cast<qint64>(r.weightBytes)},
                {"peak_bytes_batch1", static_cast<qint64>(r.peakBytes1)},
                {"peak_bytes_batch", static_cast<qint64>(r.peakBytesBatch)}, {"last_conv", q(r.lastConv)},
                {"last_conv_field", q(fieldText(r))},
                {"macs_share", QJsonObject{{"depthwise", r.shares.depthwise}, {"pointwise", r.shares.pointwise},
                                           {"full", r.shares.full}, {"fully_connected", r.shares.fullyConnected},
                                           {"other", r.shares.other}}}});
        }
        printJson(QJsonObject{{"dataset", q(comparison.datasetDescription())}, {"top_k", o.topK},
                              {"throughput_batch", o.throughputBatch}, {"models", list}});
    } else {
        std::printf("%-28s %-11s %9s %9s %7s %7s %9s %9s %8s %8s %-9s\n", "model", "format", "params", "MACs", "top-1",
                    topName.c_str(), "ms b1", ("img/s b" + std::to_string(o.throughputBatch)).c_str(), "MB b1",
                    ("MB b" + std::to_string(o.throughputBatch)).c_str(), "last RF");
        for (const auto &r : rows) {
            if (!r.ok()) {
                std::printf("%-28s %s\n", r.name.c_str(), ("failed: " + firstLine(r.error)).c_str());
                continue;
            }
            std::printf("%-28s %-11s %9s %9s %7s %7s %9s %9s %8s %8s %-9s\n", r.name.c_str(), r.format.c_str(),
                        humanCount(r.params).c_str(), humanCount(r.macs).c_str(), percent(r.top1).c_str(),
                        percent(r.topK).c_str(), number(r.msPerImage, 3).c_str(), number(r.imagesPerSecond, 0).c_str(),
                        megabytes(r.peakBytes1).c_str(), megabytes(r.peakBytesBatch).c_str(), fieldText(r).c_str());
        }
        std::printf("\n%-28s %10s %10s %10s %10s %10s\n", "multiply-adds in", "depthwise", "pointwise", "full conv",
                    "fully conn", "other");
        for (const auto &r : rows)
            if (r.ok())
                std::printf("%-28s %9.1f%% %9.1f%% %9.1f%% %9.1f%% %9.1f%%\n", r.name.c_str(), 100 * r.shares.depthwise,
                            100 * r.shares.pointwise, 100 * r.shares.full, 100 * r.shares.fullyConnected,
                            100 * r.shares.other);
        bool notes = false;
        for (const auto &r : rows)
            if (r.ok() && !r.accuracyNote.empty()) {
                if (!notes)
                    std::printf("\n");
                notes = true;
                std::printf("%s: no accuracy: %s\n", r.name.c_str(), r.accuracyNote.c_str());
            }
        for (const auto &r : rows)
            if (r.ok() && !r.throughputNote.empty())
                std::printf("%s: no images/s: %s\n", r.name.c_str(), r.throughputNote.c_str());
    }

    if (p.isSet("csv")) {
        QString csv = QString("model,name,format,params,macs,top1,top%1,ms_per_image_batch1,images_per_second_batch%2,"
                              "weight_bytes,peak_bytes_batch1,peak_bytes_batch%2,last_conv,last_conv_field,"
                              "share_depthwise,share_pointwise,share_full,share_fully_connected,share_other,"
                              "images,labelled,accuracy_note,error\n")
                          .arg(o.topK)
                          .arg(o.throughputBatch);
        for (const auto &r : rows)
            csv += QStringList{csvQuoted(r.path), csvQuoted(r.name), csvQuoted(r.format), QString::number(r.params),
                               QString::number(r.macs), csvNumber(r.top1, 6), csvNumber(r.topK, 6),
                               csvNumber(r.msPerImage, 4), csvNumber(r.imagesPerSecond, 2),
                               QString::number(r.weightBytes), QString::number(r.peakBytes1),
                               QString::number(r.peakBytesBatch), csvQuoted(r.lastConv), csvQuoted(fieldText(r)),
                               csvNumber(r.shares.depthwise, 6), csvNumber(r.shares.pointwise, 6),
                               csvNumber(r.shares.full, 6), csvNumber(r.shares.fullyConnected, 6),
                               csvNumber(r.shares.other, 6), QString::number(r.evaluated),
                               QString::number(r.labelled), csvQuoted(r.accuracyNote), csvQuoted(r.error)}
                       .join(',') +
                   "\n";
        writeText(p.value("csv"), csv);
    }
    if (p.isSet("o")) {
        ComparisonChartRenderer().write(rows, p.value("o"));
        if (!p.isSet("json"))
            std::printf("\nwrote %s\n", p.value("o").toLocal8Bit().constData());
    }
    for (const auto &r : rows)
        if (!r.ok())
            std::fprintf(stderr, "%s: %s\n", r.path.c_str(), r.error.c_str());
    if (failures > 0)
        std::fprintf(stderr, "%d model%s could not be compared (see above)\n", failures, failures > 1 ? "s" : "");
    return failures > 0 ? 1 : 0;
}

} // namespace

const std::vector<CliCommand> &CompareCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"compare", "models side by side on one dataset: parameters, multiply-adds, accuracy, speed, memory, "
                    "receptive field; accuracy-vs-multiply-adds chart", cmdCompare},
    };
    return commands;
}

} // namespace convscope
