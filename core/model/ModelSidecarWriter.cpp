#include "model/ModelSidecarWriter.h"

#include "common/Error.h"
#include "model/ModelSidecar.h"
#include "model/Model.h"
#include "model/ModelSidecarJson.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTemporaryFile>

namespace convscope {

std::string ModelSidecarWriter::pathFor(const std::string &modelPath)
{
    const std::string existing = ModelSidecar::findFor(modelPath);
    if (!existing.empty())
        return existing;
    const QFileInfo model(QString::fromStdString(modelPath));
    return model.dir().filePath(model.completeBaseName() + ".json").toStdString();
}

std::string ModelSidecarWriter::write(const std::string &modelPath, const InputSpec &spec, const std::string &labelsFile)
{
    const std::string path = pathFor(modelPath);
    const QString file = QString::fromStdString(path);
    const std::string name = QFileInfo(file).fileName().toStdString();
    QJsonObject root;
    if (QFileInfo(file).isFile()) {
        QFile in(file);
        if (!in.open(QIODevice::ReadOnly))
            throw IoError("cannot read " + path);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(in.read(ModelSidecarJson::kMaxBytes), &error);
        if (!doc.isObject())
            throw DataError(name + " is not a JSON object (" + error.errorString().toStdString() +
                            "); fix or remove it before saving the input spec");
        root = doc.object();
    }
    if (spec.channels != 1 && spec.channels != 3)
        throw UsageError("the input must have 1 or 3 channels");
    auto list = [](const std::vector<float> &v) {
        QJsonArray a;
        for (float x : v)
            a.append(static_cast<double>(x));
        return a;
    };
    QJsonObject input = root.value("input").toObject();
    input["width"] = spec.width;
    input["height"] = spec.height;
    input["channels"] = spec.channels;
    input["mean"] = list(spec.mean);
    input["std"] = list(spec.std);
    input["resize"] = resizePolicyName(spec.resize);
    input["resize_to"] = spec.resizeTo;
    input["range"] = static_cast<double>(spec.range);
    root["input"] = input;
    if (!labelsFile.empty()) {
        root.remove("labels");
        root["labels_file"] = QString::fromStdString(labelsFile);
    }
    const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
    try { // the file as it will be read: a value that would not load is refused here, not at the next start
        ModelSidecarJson::parse(bytes, spec.channels, path);
    } catch (const DataError &e) {
        throw UsageError(e.what());
    }
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size())
        throw IoError("cannot write " + path + ": " + out.errorString().toStdString());
    // The model must take the input as written: loaded once with the new file (still beside it, not in place).
    QTemporaryFile trial(QFileInfo(file).dir().filePath(".convscope-sidecar-XXXXXX.json"));
    if (!trial.open() || trial.write(bytes) != bytes.size() || !trial.flush())
        throw IoError("cannot write a trial sidecar in " + QFileInfo(file).path().toStdString());
    try {
        Model::Options o;
        o.sidecar = trial.fileName().toStdString();
        Model::load(modelPath, o);
    } catch (const UnsupportedModelError &e) {
        out.cancelWriting();
        throw UsageError(std::string("not saved: ") + e.what());
    } catch (const DataError &e) {
        out.cancelWriting();
        throw UsageError(std::string("not saved: ") + e.what());
    }
    if (!out.commit())
        throw IoError("cannot write " + path + ": " + out.errorString().toStdString());
    return path;
}

} // namespace convscope
