#include "model/ModelSidecar.h"

#include "common/Error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace convscope {

const char *resizePolicyName(ResizePolicy policy)
{
    switch (policy) {
    case ResizePolicy::Stretch: return "stretch";
    case ResizePolicy::Pad: return "pad";
    case ResizePolicy::CenterCrop: break;
    }
    return "crop";
}

namespace {

std::vector<float> floats(const QJsonValue &v, const std::string &field, const std::string &file)
{
    std::vector<float> out;
    if (v.isDouble())
        return {static_cast<float>(v.toDouble())};
    if (!v.isArray())
        throw DataError(file + ": '" + field + "' must be a number or a list of numbers");
    for (const auto &e : v.toArray()) {
        if (!e.isDouble())
            throw DataError(file + ": '" + field + "' must contain numbers only");
        out.push_back(static_cast<float>(e.toDouble()));
    }
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

void readInput(const QJsonObject &in, InputSpec &spec, const std::string &file)
{
    spec.width = positiveInt(in, "width", spec.width, file);
    spec.height = positiveInt(in, "height", spec.height, file);
    spec.channels = positiveInt(in, "channels", spec.channels, file);
    if (spec.channels != 1 && spec.channels != 3)
        throw DataError(file + ": 'input.channels' must be 1 or 3");
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
    if (in.contains("resize")) {
        const QString r = in["resize"].toString();
        if (r == "stretch")
            spec.resize = ResizePolicy::Stretch;
        else if (r == "crop")
            spec.resize = ResizePolicy::CenterCrop;
        else if (r == "pad")
            spec.resize = ResizePolicy::Pad;
        else
            throw DataError(file + ": 'input.resize' must be \"stretch\", \"crop\" or \"pad\"");
    }
    spec.resizeTo = positiveInt(in, "resize_to", std::max(spec.width, spec.height) * 8 / 7, file);
    if (in.contains("range")) {
        spec.range = static_cast<float>(in["range"].toDouble(-1));
        if (spec.range <= 0)
            throw DataError(file + ": 'input.range' must be a positive number (1 or 255)");
    }
}

} // namespace

std::string ModelSidecar::findFor(const std::string &modelPath)
{
    QFileInfo model(QString::fromStdString(modelPath));
    const QString candidates[] = {model.dir().filePath(model.completeBaseName() + ".json"),
                                  model.filePath() + ".json"};
    for (const QString &c : candidates)
        if (QFileInfo(c).isFile())
            return c.toStdString();
    return {};
}

ModelSidecar ModelSidecar::defaults(int channels)
{
    ModelSidecar s;
    if (channels == 1) {
        s.input.width = s.input.height = 28;
        s.input.channels = 1;
        s.input.mean = {0.0f};
        s.input.std = {1.0f};
        s.input.resize = ResizePolicy::Stretch;
        s.notes.push_back("no sidecar: assuming 28×28 grayscale input with pixels in [0, 1]");
    } else {
        s.notes.push_back("no sidecar: assuming ImageNet preprocessing (resize 256, centre crop 224, "
                          "ImageNet mean/std)");
    }
    return s;
}

ModelSidecar ModelSidecar::load(const std::string &jsonPath, int channels)
{
    QFile f(QString::fromStdString(jsonPath));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read sidecar '" + jsonPath + "': " + f.errorString().toStdString());
    QJsonParseError err{};
    QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw DataError("sidecar '" + jsonPath + "' is not valid JSON: " + err.errorString().toStdString() +
                        " at offset " + std::to_string(err.offset));
    ModelSidecar s = defaults(channels);
    s.notes.clear();
    s.path = jsonPath;
    const QJsonObject o = doc.object();
    s.name = o["name"].toString().toStdString();
    s.description = o["description"].toString().toStdString();
    if (o.contains("input")) {
        if (!o["input"].isObject())
            throw DataError(jsonPath + ": 'input' must be an object");
        readInput(o["input"].toObject(), s.input, jsonPath);
    } else {
        s.notes.push_back("sidecar has no 'input': using defaults");
    }
    const QDir base = QFileInfo(f).absoluteDir();
    if (o.contains("labels")) {
        for (const auto &l : o["labels"].toArray())
            s.labels.push_back(l.toString().toStdString());
    } else if (o.contains("labels_file")) {
        QFile lf(base.filePath(o["labels_file"].toString()));
        if (!lf.open(QIODevice::ReadOnly | QIODevice::Text))
            throw IoError(jsonPath + ": cannot read labels file '" + lf.fileName().toStdString() + "'");
        while (!lf.atEnd()) {
            QString line = QString::fromUtf8(lf.readLine()).trimmed();
            if (!line.isEmpty())
                s.labels.push_back(line.toStdString());
        }
    }
    const QJsonObject names = o["layer_names"].toObject();
    for (auto it = names.begin(); it != names.end(); ++it)
        s.layerNames[it.key().toStdString()] = it.value().toString().toStdString();
    if (o.contains("dataset"))
        s.dataset = QDir::cleanPath(base.filePath(o["dataset"].toString())).toStdString();
    return s;
}

} // namespace convscope
