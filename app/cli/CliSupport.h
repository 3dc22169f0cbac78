#pragma once
// Helpers shared by the CLI's subcommands: option parsing, model loading, common options.
// (Free functions for the command files, kept together because they are only the CLI's plumbing.)
#include "model/Model.h"
#include "render/TileGridRenderer.h"
#include "tiles/TileSet.h"

#include <QCommandLineParser>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace convscope::cli {

QString q(const std::string &s);
void printJson(const QJsonValue &v);
/// Parses `args` for a command; returns an exit code when the command must stop (help shown or bad usage).
std::optional<int> parse(QCommandLineParser &p, const QStringList &args, const char *description,
                         const char *positionals, int minPositional, int maxPositional = -1);
/// A whole-number option in [min, max] (UsageError otherwise), `fallback` when not set.
int intOption(const QCommandLineParser &p, const QString &name, int fallback, int min, int max);
/// A decimal option in [min, max] (UsageError otherwise), `fallback` when not set.
double realOption(const QCommandLineParser &p, const QString &name, double fallback, double min, double max);
/// Loads the model named by `path` with the --sidecar option if the command has one; prints sidecar notes.
std::shared_ptr<const Model> loadModel(const QCommandLineParser &p, const QString &path);
QCommandLineOption sidecarOption();
TileGridRenderer::Options gridOptions(const QCommandLineParser &p);
TileScaling scalingOption(const QCommandLineParser &p);
/// "0,5,10-19" -> units.
std::vector<std::int64_t> unitList(const QString &text);
/// `text` as a double-quoted CSV field (inner quotes doubled).
QString csvQuoted(const std::string &text);
/// Writes `text` (UTF-8) to `path`, replacing it. Throws IoError naming the file.
void writeText(const QString &path, const QString &text);

} // namespace convscope::cli
