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

namespace {
/// Why the model refused the trial sidecar, named as the file the user is saving rather than the trial copy.
UsageError notSaved(const Error &e, const QString &trial, const QString &file)
{
    return UsageError("not saved: " + QString::fromStdString(e.what()).replace(trial, file).toStdString());
}
} // namespace

std::string ModelSidecarWriter::pathFor(const std::string &modelPath)
{
    const std::string existing = ModelSidecar::findFor(modelPath);
    if (!existing.empty())
        return existing;
    const QFileInfo model(QString::fromStdString(modelPath));
    return model.dir().filePath(model.completeBaseName() + ".json").toStdString();
}

QJsonObject ModelSidecarWriter::inputJson(const InputSpec &spec)
{
    auto list = [](const std::vector<float> &v) {
        QJsonArray a;
        for (float x : v)
            a.append(static_cast<double>(x));
        return a;
    };
    return QJsonObject{{"width", spec.width},
                       {"height", spec.height},
                       {"channels", spec.channels},
                       {"channel_order", channelOrderName(spec.channels == 3 ? spec.order : ChannelOrder::Rgb)},
                       {"mean", list(spec.mean)},
                       {"std", list(spec.std)},
                       {"resize", resizePolicyName(spec.resize)},
                       {"resize_to", spec.resizeTo},
                       {"range", static_cast<double>(spec.range)}};
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
    QJsonObject input = root.value("input").toObject(); // keys Convscope does not know stay
    const QJsonObject fields = inputJson(spec);
    for (auto it = fields.begin(); it != fields.end(); ++it)
        input[it.key()] = it.value();
    root["input"] = input;
    if (!labelsFile.empty()) {
        root.remove("labels");
        root["labels_file"] = QString::fromStdString(labelsFile);
    }
    const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
    // The file as it will be read, and the model must take the input it describes: the model is loaded once with
    // it (beside the sidecar, not yet in place), so a bad value or size is refused now, not at the next start.
    QTemporaryFile trial(QFileInfo(file).dir().filePath(".convscope-sidecar-XXXXXX.json"));
    if (!trial.open() || trial.write(bytes) != bytes.size() || !trial.flush())
        throw IoError("cannot write a trial sidecar in " + QFileInfo(file).path().toStdString());
    try {
        Model::Options o;
        o.sidecar = trial.fileName().toStdString();
        Model::load(modelPath, o);
    } catch (const UnsupportedModelError &e) {
        throw notSaved(e, trial.fileName(), file);
    } catch (const DataError &e) {
        throw notSaved(e, trial.fileName(), file);
    }
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit())
        throw IoError("cannot write " + path + ": " + out.errorString().toStdString());
    return path;
}

} // namespace convscope
