#include "cli/EvolutionCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "evolution/FeatureEvolution.h"
#include "render/StabilityChartRenderer.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace convscope {

namespace {

using namespace cli;

QString percent(double v) { return std::isfinite(v) ? QString::number(100 * v, 'f', 0) + " %" : QString("–"); }

/// "epoch 4" -> "4" when every checkpoint is named by the same word (the table's narrow columns).
std::vector<std::string> shortLabels(const CheckpointSeries &series)
{
    std::vector<std::string> labels;
    for (const auto &c : series.checkpoints())
        labels.push_back(c.label);
    for (const char *word : {"epoch ", "step "})
        if (std::all_of(labels.begin(), labels.end(), [&](const std::string &l) { return l.rfind(word, 0) == 0; })) {
            for (auto &l : labels)
                l = l.substr(std::string(word).size());
            break;
        }
    for (auto &l : labels)
        if (l.size() > 10)
            l = l.substr(0, 9) + "~";
    return labels;
}

void printStability(const FeatureEvolution &e)
{
    const auto labels = shortLabels(e.series());
    std::string names;
    for (const auto &c : e.series().checkpoints())
        names += (names.empty() ? "" : ", ") + c.label;
    std::printf("Checkpoints: %s\n", names.c_str());
    std::printf("Top images kept from one checkpoint to the next, and shared with the last (mean over units):\n");
    std::printf("%-28s", "layer");
    for (size_t i = 0; i + 1 < labels.size(); ++i)
        std::printf(" %12s", (labels[i] + " > " + labels[i + 1]).c_str());
    std::printf("  |");
    for (size_t i = 0; i + 1 < labels.size(); ++i)
        std::printf(" %10s", labels[i].c_str());
    std::printf("\n");
    for (const auto &l : e.stability()) {
        std::printf("%-28s", l.layer.c_str());
        for (double v : l.consecutive)
            std::printf(" %12s", percent(v).toUtf8().constData());
        std::printf("  |");
        for (size_t i = 0; i + 1 < l.toFinal.size(); ++i)
            std::printf(" %10s", percent(l.toFinal[i]).toUtf8().constData());
        std::printf("\n");
    }
}

void writeCsv(const QString &path, const FeatureEvolution &e)
{
    const auto &cps = e.series().checkpoints();
    QString text = "layer,from,to,kept,with_last,units_compared\n";
    for (const auto &l : e.stability())
        for (size_t i = 0; i + 1 < cps.size(); ++i)
            text += csvQuoted(l.layer) + "," + csvQuoted(cps[i].label) + "," + csvQuoted(cps[i + 1].label) + "," +
                    (std::isfinite(l.consecutive[i]) ? QString::number(l.consecutive[i], 'g', 6) : QString()) + "," +
                    (std::isfinite(l.toFinal[i]) ? QString::number(l.toFinal[i], 'g', 6) : QString()) + "," +
                    QString::number(l.compared[i]) + "\n";
    writeText(path, text);
}

int cmdEvolution(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"dataset", "Images to scan every checkpoint against (folder, idx file, file list).", "path"});
    p.addOption({"layer", "Layer of the figure (path, friendly name or index).", "layer"});
    p.addOption({"units", "Units of the figure, e.g. 0,5,10-19 (default: the 8 strongest at the last checkpoint).",
                 "list"});
    p.addOption({"strongest", "Without --units: how many of the strongest units (default 8).", "n"});
    p.addOption({"patch", "One cell per unit and checkpoint: the strongest patch instead of the top-k mosaic."});
    p.addOption({"layers", "Layers to scan and compare (default: every conv layer and 4-D block output).", "list"});
    p.addOption({"limit", "Scan only the first N images of the dataset.", "n"});
    p.addOption({"project", "Project folder for the scans (default: the dataset's, as `scan` uses).", "dir"});
    p.addOption({{"o", "output"}, "The figure: .png or .svg, rows = units, columns = checkpoints.", "file"});
    p.addOption({"chart", "Also write the stability chart (.png or .svg): kept top images per layer.", "file"});
    p.addOption({"to-final", "The chart compares each checkpoint with the last instead of the next."});
    p.addOption({"csv", "Also write the stability table as CSV.", "file"});
    p.addOption({"width", "Figure width in pixels.", "px"});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "How features evolve while a network trains (Zeiler & Fergus, Fig. 4): scans each "
                                 "checkpoint against the same dataset (stored and reused in the project), prints per "
                                 "layer how many of each unit's top images survive from one checkpoint to the next, "
                                 "and draws chosen units' top patches at every checkpoint. CKPT: model files in "
                                 "training order, or one folder (files sorted by name, numbers as numbers).",
                        "CKPT... --dataset D --layer L -o figure.png", 1))
        return *rc;
    if (!p.isSet("dataset") || !p.isSet("layer") || !p.isSet("o"))
        throw UsageError("--dataset, --layer and -o are required");
    std::vector<std::string> files;
    const QStringList pos = p.positionalArguments();
    for (int i = 1; i < pos.size(); ++i)
        files.push_back(pos[i].toStdString());
    FeatureEvolution::Options o;
    o.sidecar = p.value("sidecar").toStdString();
    o.project = p.value("project").toStdString();
    o.scan.limit = p.isSet("limit") ? intOption(p, "limit", -1, 1, 2'000'000'000) : -1;
    for (const QString &l : p.value("layers").split(',', Qt::SkipEmptyParts))
        o.scan.layers.push_back(l.trimmed().toStdString());
    o.scan.noFeatures = true;
    const int strongest = intOption(p, "strongest", 8, 1, 4096);
    FeatureEvolution evolution(CheckpointSeries::fromArguments(files), p.value("dataset").toStdString(), o);
    {
        CliProgressBar bar("images", p.isSet("quiet"));
        while (!evolution.run(&bar)) {
        }
        bar.finish();
    }
    printStability(evolution);
    const std::string layer = p.value("layer").toStdString();
    std::vector<std::int64_t> units;
    if (p.isSet("units")) {
        units = unitList(p.value("units"));
    } else {
        units = evolution.strongestUnits(layer, strongest);
    }
    TileGridRenderer::Options ro = gridOptions(p);
    if (!p.isSet("width")) // legible by default: about 180 pixels per checkpoint
        ro.width = std::clamp(180 * static_cast<int>(evolution.series().size()), 720, 2400);
    if (!p.isSet("patch"))
        ro.gap = 8; // each cell is a mosaic with gaps of its own: the cells need a wider one
    TileSet figure = evolution.figure(layer, units, !p.isSet("patch"), 0);
    TileGridRenderer(ro).write(figure, p.value("o"));
    std::printf("wrote %s (%zu units × %zu checkpoints of %s)\n", p.value("o").toLocal8Bit().constData(), units.size(),
                evolution.series().size(), layer.c_str());
    std::vector<std::string> labels;
    for (const auto &c : evolution.series().checkpoints())
        labels.push_back(c.label);
    if (p.isSet("chart")) {
        StabilityChartRenderer::Options co;
        co.toFinal = p.isSet("to-final");
        StabilityChartRenderer(co).write(labels, evolution.stability(), p.value("chart"));
        std::printf("wrote %s\n", p.value("chart").toLocal8Bit().constData());
    }
    if (p.isSet("csv")) {
        writeCsv(p.value("csv"), evolution);
        std::printf("wrote %s\n", p.value("csv").toLocal8Bit().constData());
    }
    return 0;
}

} // namespace

const std::vector<CliCommand> &EvolutionCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"evolution", "how units change across training checkpoints: stability per layer and a units × checkpoints "
                      "figure", cmdEvolution},
    };
    return commands;
}

} // namespace convscope
