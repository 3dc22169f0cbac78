#include "evolution/CheckpointSeries.h"

#include "common/Error.h"
#include "model/Model.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <algorithm>

namespace convscope {

namespace {

std::string shapeText(const std::vector<std::int64_t> &shape)
{
    std::string s;
    for (auto d : shape)
        s += (s.empty() ? "" : "×") + std::to_string(d);
    return s.empty() ? "none" : s;
}

QString withoutLeadingZeros(const QString &digits)
{
    int k = 0;
    while (k + 1 < digits.size() && digits[k] == '0')
        ++k;
    return digits.mid(k);
}

/// Name order with runs of digits compared as numbers ("e2" before "e10"); QCollator's numeric mode needs ICU.
bool naturalLess(const QString &a, const QString &b)
{
    int i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i].isDigit() && b[j].isDigit()) {
            int ei = i, ej = j;
            while (ei < a.size() && a[ei].isDigit())
                ++ei;
            while (ej < b.size() && b[ej].isDigit())
                ++ej;
            const QString ta = withoutLeadingZeros(a.mid(i, ei - i));
            const QString tb = withoutLeadingZeros(b.mid(j, ej - j));
            if (ta.size() != tb.size())
                return ta.size() < tb.size();
            if (ta != tb)
                return ta < tb;
            i = ei;
            j = ej;
            continue;
        }
        if (a[i] != b[j])
            return a[i] < b[j];
        ++i;
        ++j;
    }
    return a.size() - i < b.size() - j;
}

QStringList naturallySorted(QStringList files)
{
    std::stable_sort(files.begin(), files.end(), naturalLess);
    return files;
}

QByteArray contentHash(const QString &path)
{
    QFile f(path);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!f.open(QIODevice::ReadOnly) || !hash.addData(&f))
        return {};
    return hash.result();
}

} // namespace

std::string CheckpointSeries::labelFor(const std::string &path)
{
    const QString base = QFileInfo(QString::fromStdString(path)).completeBaseName();
    // The keyword starts the name or follows a non-letter: "run_e10" is epoch 10, "net_state_5" and "size_1024" are
    // no epochs.
    static const QRegularExpression named("(?:^|[^a-z])(epoch|ep|e|step|iter|it)[_\\-]?(\\d+)(?!.*\\d)",
                                          QRegularExpression::CaseInsensitiveOption);
    const auto m = named.match(base);
    if (m.hasMatch()) {
        const QString kind = m.captured(1).toLower();
        const bool steps = kind.startsWith("st") || kind.startsWith("it");
        return (steps ? "step " : "epoch ") + std::to_string(m.captured(2).toLongLong());
    }
    return base.toStdString();
}

CheckpointSeries CheckpointSeries::fromFiles(const std::vector<std::string> &paths)
{
    if (paths.size() < 2)
        throw UsageError("feature evolution needs at least 2 checkpoints of one model");
    CheckpointSeries s;
    for (const auto &p : paths) {
        if (!QFileInfo(QString::fromStdString(p)).isFile())
            throw IoError("no checkpoint file '" + p + "'");
        s.checkpoints_.push_back({p, labelFor(p)});
    }
    // Two files with the same number: fall back to the file names so the columns stay distinguishable.
    for (size_t i = 0; i < s.checkpoints_.size(); ++i)
        for (size_t j = i + 1; j < s.checkpoints_.size(); ++j)
            if (s.checkpoints_[i].label == s.checkpoints_[j].label) {
                for (auto &c : s.checkpoints_)
                    c.label = QFileInfo(QString::fromStdString(c.path)).completeBaseName().toStdString();
                return s;
            }
    return s;
}

CheckpointSeries CheckpointSeries::fromFolder(const std::string &dir)
{
    const QDir folder(QString::fromStdString(dir));
    if (!folder.exists())
        throw IoError("no folder '" + dir + "'");
    const QStringList files =
        naturallySorted(folder.entryList({"*.pt", "*.ts", "*.torchscript", "*.onnx"}, QDir::Files));
    std::vector<std::string> paths;
    for (const QString &f : files)
        paths.push_back(folder.filePath(f).toStdString());
    if (paths.size() < 2)
        throw UsageError("folder '" + dir + "' holds " + std::to_string(paths.size()) +
                         " model files; feature evolution needs at least 2 checkpoints");
    return fromFiles(paths);
}

CheckpointSeries CheckpointSeries::siblingsOf(const std::string &file)
{
    const QFileInfo picked(QString::fromStdString(file));
    if (!picked.isFile())
        throw IoError("no file '" + file + "'");
    static const QRegularExpression digits("\\d+");
    const QString pattern = picked.fileName().replace(digits, "#");
    QStringList files;
    for (const QString &f : picked.dir().entryList(QDir::Files))
        if (QString(f).replace(digits, "#") == pattern)
            files.push_back(f);
    files = naturallySorted(files);
    if (files.size() < 2)
        throw UsageError("no other checkpoints named like '" + picked.fileName().toStdString() + "' beside it (files " +
                         "that differ only in their numbers); choose the checkpoints' files or folder");
    std::vector<std::string> paths;
    for (const QString &f : files)
        paths.push_back(picked.dir().filePath(f).toStdString());
    return fromFiles(paths);
}

std::vector<std::string> CheckpointSeries::byName(std::vector<std::string> paths)
{
    std::stable_sort(paths.begin(), paths.end(), [](const std::string &a, const std::string &b) {
        return naturalLess(QFileInfo(QString::fromStdString(a)).fileName(),
                           QFileInfo(QString::fromStdString(b)).fileName());
    });
    return paths;
}

CheckpointSeries CheckpointSeries::fromArguments(const std::vector<std::string> &arguments)
{
    if (arguments.size() == 1 && QFileInfo(QString::fromStdString(arguments[0])).isDir())
        return fromFolder(arguments[0]);
    return fromFiles(arguments);
}

CheckpointSeries CheckpointSeries::besideModel(const std::string &modelPath)
{
    const QFileInfo model(QString::fromStdString(modelPath));
    const QDir folder(model.dir().filePath("checkpoints"));
    const QString stem = model.completeBaseName();
    const QStringList files = naturallySorted(folder.entryList({stem + "_*.pt", stem + "_*.onnx"}, QDir::Files));
    CheckpointSeries s;
    if (files.size() < 2)
        return s;
    std::vector<std::string> paths;
    for (const QString &f : files)
        paths.push_back(folder.filePath(f).toStdString());
    try {
        return fromFiles(paths);
    } catch (const Error &) {
        return s;
    }
}

int CheckpointSeries::indexOf(const std::string &modelPath) const
{
    const QFileInfo model(QString::fromStdString(modelPath));
    for (size_t i = 0; i < checkpoints_.size(); ++i)
        if (QFileInfo(QString::fromStdString(checkpoints_[i].path)) == model)
            return static_cast<int>(i);
    QByteArray hash;
    for (size_t i = 0; i < checkpoints_.size(); ++i) {
        const QFileInfo c(QString::fromStdString(checkpoints_[i].path));
        if (c.size() != model.size())
            continue;
        if (hash.isEmpty())
            hash = contentHash(model.filePath());
        if (!hash.isEmpty() && contentHash(c.filePath()) == hash)
            return static_cast<int>(i);
    }
    return -1;
}

void CheckpointSeries::checkSameLayers(const Model &reference, const Model &other, const std::string &label)
{
    const auto &a = reference.layers();
    const auto &b = other.layers();
    if (a.size() != b.size())
        throw DataError("checkpoint '" + label + "' has " + std::to_string(b.size()) + " layers, the first has " +
                        std::to_string(a.size()) + ": not checkpoints of one architecture");
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].path != b[i].path || a[i].type != b[i].type)
            throw DataError("checkpoint '" + label + "' differs from the first at layer " + std::to_string(i) + ": " +
                            b[i].path + " (" + b[i].type + ") instead of " + a[i].path + " (" + a[i].type + ")");
        if (a[i].outputShape != b[i].outputShape)
            throw DataError("checkpoint '" + label + "': layer " + a[i].path + " outputs " +
                            shapeText(b[i].outputShape) + ", the first checkpoint " + shapeText(a[i].outputShape));
    }
}

} // namespace convscope
