#include "cli/CliSupport.h"

#include "common/Error.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace convscope::cli {

QString q(const std::string &s) { return QString::fromStdString(s); }

void printJson(const QJsonValue &v)
{
    const QByteArray text = v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented)
                                        : QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented);
    std::fwrite(text.constData(), 1, static_cast<size_t>(text.size()), stdout);
}

/// Parses `args` for a command; returns an exit code when the command must stop (help shown or bad usage).
std::optional<int> parse(QCommandLineParser &p, const QStringList &args, const char *description,
                         const char *positionals, int minPositional, int maxPositional)
{
    p.setApplicationDescription(description);
    p.addHelpOption();
    p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    auto usage = [&] { return "usage: convscope " + args.value(0).toStdString() + " " + positionals; };
    if (!p.parse(QStringList{"convscope"} + args)) // parse() skips the first entry as the program name
        throw UsageError(p.errorText().toStdString() + "\n" + usage());
    if (p.isSet("help")) {
        // Usage, what the command does (wrapped at 80 columns), then Qt's list of options.
        QString text, line;
        for (const QString &word : QString::fromUtf8(description).split(' ', Qt::SkipEmptyParts)) {
            if (!line.isEmpty() && line.size() + 1 + word.size() > 80) {
                text += line + '\n';
                line.clear();
            }
            line += (line.isEmpty() ? "" : " ") + word;
        }
        text += line;
        const QString help = p.helpText();
        const qsizetype options = help.indexOf("\nOptions:");
        std::printf("%s\n\n%s\n%s", usage().c_str(), text.toLocal8Bit().constData(),
                    options < 0 ? "" : help.mid(options).toLocal8Bit().constData());
        return 0;
    }
    const int n = static_cast<int>(p.positionalArguments().size()) - 1; // [0] is the command
    if (n < minPositional || (maxPositional >= 0 && n > maxPositional))
        throw UsageError("expected " + std::string(positionals) + "\n" + usage());
    return std::nullopt;
}

namespace {

/// --name converted by `convert(text, &ok)` and checked against [min, max]; `fallback` when not given.
template <class T, class Convert>
T rangedOption(const QCommandLineParser &p, const QString &name, T fallback, T min, T max, const char *kind,
               Convert convert)
{
    if (!p.isSet(name))
        return fallback;
    bool ok = false;
    const T v = convert(p.value(name), &ok);
    if (!ok || v < min || v > max)
        throw UsageError("--" + name.toStdString() + " must be " + kind + " from " + std::to_string(min) + " to " +
                         std::to_string(max));
    return v;
}

} // namespace

int intOption(const QCommandLineParser &p, const QString &name, int fallback, int min, int max)
{
    return rangedOption(p, name, fallback, min, max, "a whole number",
                        [](const QString &text, bool *ok) { return text.toInt(ok); });
}

std::shared_ptr<const Model> loadModel(const QCommandLineParser &p, const QString &path)
{
    Model::Options o;
    if (p.optionNames().contains("sidecar") && p.isSet("sidecar"))
        o.sidecar = p.value("sidecar").toStdString();
    auto model = Model::load(path.toStdString(), o);
    for (const auto &note : model->sidecar().notes)
        std::fprintf(stderr, "note: %s\n", note.c_str());
    return model;
}

QCommandLineOption sidecarOption() { return {"sidecar", "Sidecar JSON (default: MODEL.json next to the model).", "json"}; }

TileGridRenderer::Options gridOptions(const QCommandLineParser &p)
{
    TileGridRenderer::Options o;
    o.width = intOption(p, "width", 0, 16, 32768);
    return o;
}

TileScaling scalingOption(const QCommandLineParser &p)
{
    const QString s = p.value("scaling");
    if (s.isEmpty() || s == "tile")
        return TileScaling::PerTile;
    if (s == "layer")
        return TileScaling::PerSet;
    throw UsageError("--scaling must be 'tile' or 'layer'");
}

std::vector<std::int64_t> unitList(const QString &text)
{
    std::vector<std::int64_t> out;
    for (const QString &part : text.split(',', Qt::SkipEmptyParts)) {
        const QStringList range = part.trimmed().split('-');
        bool ok1 = false, ok2 = true;
        const qint64 a = range[0].toLongLong(&ok1);
        const qint64 b = range.size() == 2 ? range[1].toLongLong(&ok2) : a;
        if (!ok1 || !ok2 || range.size() > 2 || b < a || b - a > 100000)
            throw UsageError("--units: '" + part.toStdString() + "' is not a unit or a range like 4-9");
        for (qint64 u = a; u <= b; ++u)
            out.push_back(u);
    }
    return out;
}

double realOption(const QCommandLineParser &p, const QString &name, double fallback, double min, double max)
{
    return rangedOption(p, name, fallback, min, max, "a number",
                        [](const QString &text, bool *ok) { return text.toDouble(ok); });
}

QString csvQuoted(const std::string &text) { return "\"" + q(text).replace("\"", "\"\"") + "\""; }

void writeText(const QString &path, const QString &text)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(text.toUtf8()) < 0)
        throw IoError("cannot write '" + path.toStdString() + "': " + f.errorString().toStdString());
}

} // namespace convscope::cli
