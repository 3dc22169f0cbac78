#include "model/ModelSidecarJson.h"

#include "common/Error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

namespace convscope {

namespace {

constexpr qint64 kMaxLabelsFileBytes = qint64(16) << 20;

std::vector<float> floats(const QJsonValue &v, const std::string &field, const std::string &file)
{
    std::vector<float> out;
    if (v.isDouble())
        out.push_back(static_cast<float>(v.toDouble()));
    else if (!v.isArray())
        throw DataError(file + ": '" + field + "' must be a number or a list of numbers");
    for (const auto &e : v.toArray()) {
        if (!e.isDouble())
            throw DataError(file + ": '" + field + "' must contain numbers only");
        out.push_back(static_cast<float>(e.toDouble()));
    }
    for (float x : out)
        if (!std::isfinite(x))
            throw DataError(file + ": '" + field + "' must hold finite numbers (within ±3.4e38)");
    return out;
}

int positiveInt(const QJsonObject &o, const char *key, int fallback, const std::string &file)
{
    if (!o.contains(key))
        return fallback;
    int v = o[key].toInt(-1);
    if (v <= 0 || v > 16384)
        throw DataError(file + ": 'input." + key + "' must be a whole number between 1 and 16384");
    return v;
}

/// The string at `key`, or "" when absent; DataError when it is something else.
std::string text(const QJsonObject &o, const char *key, const std::string &file)
{
    if (!o.contains(key))
        return {};
    if (!o[key].isString())
        throw DataError(file + ": '" + key + "' must be a string");
    return o[key].toString().toStdString();
}

void readPerChannel(const QJsonObject &in, InputSpec &spec, const std::string &file)
{
    if (in.contains("mean"))
        spec.mean = floats(in["mean"], "input.mean", file);
    if (in.contains("std"))
        spec.std = floats(in["std"], "input.std", file);
    auto fit = [&](std::vector<float> &v, const char *name) {
        if (v.size() == 1)
            v.assign(static_cast<size_t>(spec.channels), v[0]);
        if (static_cast<int>(v.size()) != spec.channels)
            throw DataError(file + ": 'input." + name + "' needs one value per channel (" +
                            std::to_string(spec.channels) + ")");
    };
    fit(spec.mean, "mean");
    fit(spec.std, "std");
    for (float s : spec.std)
        if (s <= 0)
            throw DataError(file + ": 'input.std' values must be positive");
}

void readInput(const QJsonObject &in, InputSpec &spec, const std::string &file)
{
    spec.width = positiveInt(in, "width", spec.width, file);
    spec.height = positiveInt(in, "height", spec.height, file);
    spec.channels = positiveInt(in, "channels", spec.channels, file);
    if (spec.channels != 1 && spec.channels != 3)
        throw DataError(file + ": 'input.channels' must be 1 or 3");
    readPerChannel(in, spec, file);
    if (in.contains("channel_order") &&
        !parseChannelOrder(in["channel_order"].toString().toStdString(), spec.order))
        throw DataError(file + ": 'input.channel_order' must be \"rgb\" or \"bgr\"");
    if (spec.channels == 1)
        spec.order = ChannelOrder::Rgb; // one plane has no order
    // A BGR sidecar without its own mean or std: the defaults (ImageNet's, red first) in the planes' order.
    if (spec.order == ChannelOrder::Bgr) {
        if (!in.contains("mean"))
            std::reverse(spec.mean.begin(), spec.mean.end());
        if (!in.contains("std"))
            std::reverse(spec.std.begin(), spec.std.end());
    }
    if (in.contains("resize") && !parseResizePolicy(in["resize"].toString().toStdString(), spec.resize))
        throw DataError(file + ": 'input.resize' must be \"stretch\", \"crop\" or \"pad\"");
    spec.resizeTo = positiveInt(in, "resize_to", std::max(spec.width, spec.height) * 8 / 7, file);
    if (in.contains("range")) {
        spec.range = static_cast<float>(in["range"].toDouble(-1));
        if (!(spec.range > 0) || !std::isfinite(spec.range))
            throw DataError(file + ": 'input.range' must be a positive number (1 or 255)");
    }
}

/// One label per non-empty line of a regular file of at most 16 MiB (opening a FIFO would block for ever).
std::vector<std::string> readLabelsFile(const QString &path, const std::string &file)
{
    const QFileInfo info(path);
    if (!info.isFile() || info.size() > kMaxLabelsFileBytes)
        throw IoError(file + ": the labels file '" + path.toStdString() + "' is " +
                      (info.isFile() ? "larger than 16 MiB" : "missing or not a regular file"));
    QFile lf(path);
    if (!lf.open(QIODevice::ReadOnly | QIODevice::Text))
        throw IoError(file + ": cannot read labels file '" + path.toStdString() + "'");
    std::vector<std::string> labels;
    for (const QByteArray &line : lf.read(kMaxLabelsFileBytes).split('\n')) {
        const QString label = QString::fromUtf8(line).trimmed();
        if (!label.isEmpty())
            labels.push_back(label.toStdString());
    }
    return labels;
}

void readLabels(const QJsonObject &o, const QDir &base, ModelSidecar &s, const std::string &file)
{
    if (o.contains("labels")) {
        if (!o["labels"].isArray())
            throw DataError(file + ": 'labels' must be a list of class names");
        for (const auto &l : o["labels"].toArray()) {
            if (!l.isString())
                throw DataError(file + ": 'labels' must contain strings only");
            s.labels.push_back(l.toString().toStdString());
        }
    } else if (o.contains("labels_file")) {
        s.labels = readLabelsFile(base.filePath(QString::fromStdString(text(o, "labels_file", file))), file);
    }
}

void readLayerNames(const QJsonObject &o, ModelSidecar &s, const std::string &file)
{
    if (!o.contains("layer_names"))
        return;
    if (!o["layer_names"].isObject())
        throw DataError(file + ": 'layer_names' must be an object of \"layer path\": \"name\"");
    const QJsonObject names = o["layer_names"].toObject();
    for (auto it = names.begin(); it != names.end(); ++it) {
        if (!it.value().isString())
            throw DataError(file + ": 'layer_names." + it.key().toStdString() + "' must be a string");
        s.layerNames[it.key().toStdString()] = it.value().toString().toStdString();
    }
}

} // namespace

ModelSidecar ModelSidecarJson::parse(const QByteArray &json, int channels, const std::string &jsonPath)
{
    if (json.size() > kMaxBytes)
        throw DataError("sidecar '" + jsonPath + "' is larger than 16 MiB; not a sidecar");
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw DataError("sidecar '" + jsonPath + "' is not valid JSON: " +
                        (err.error != QJsonParseError::NoError ? err.errorString().toStdString() +
                                                                     " at offset " + std::to_string(err.offset)
                                                               : std::string("not an object {…}")));
    ModelSidecar s = ModelSidecar::defaults(channels);
    s.notes.clear();
    s.path = jsonPath;
    const QJsonObject o = doc.object();
    s.name = text(o, "name", jsonPath);
    s.description = text(o, "description", jsonPath);
    if (o.contains("input")) {
        if (!o["input"].isObject())
            throw DataError(jsonPath + ": 'input' must be an object");
        readInput(o["input"].toObject(), s.input, jsonPath);
    } else {
        s.notes.push_back("sidecar has no 'input': using defaults");
    }
    const QDir base = QFileInfo(QString::fromStdString(jsonPath)).absoluteDir();
    readLabels(o, base, s, jsonPath);
    readLayerNames(o, s, jsonPath);
    if (o.contains("dataset"))
        s.dataset = QDir::cleanPath(base.filePath(QString::fromStdString(text(o, "dataset", jsonPath)))).toStdString();
    return s;
}

} // namespace convscope
