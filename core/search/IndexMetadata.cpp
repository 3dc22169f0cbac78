#include "search/IndexMetadata.h"

#include "common/Error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace convscope {

namespace {

QString q(const std::string &s) { return QString::fromStdString(s); }

[[noreturn]] void invalid(const std::string &file, const std::string &what)
{
    throw DataError("the index metadata '" + file + "' is damaged (" + what + ")");
}

/// The string at `key`; `required` ones must be there and non-empty.
std::string text(const QJsonObject &o, const char *key, bool required, const std::string &file)
{
    const QJsonValue v = o[key];
    if (v.isUndefined() && !required)
        return {};
    if (!v.isString() || (required && v.toString().isEmpty()))
        invalid(file, std::string("'") + key + "' is not " + (required ? "a non-empty string" : "a string"));
    return v.toString().toStdString();
}

/// A whole number ≥ `least` at `key` (0 when absent and `least` allows it).
std::int64_t whole(const QJsonObject &o, const char *key, std::int64_t least, const std::string &file)
{
    const QJsonValue v = o[key];
    if (v.isUndefined() && least <= 0)
        return 0;
    const double d = v.toDouble(-1);
    if (!v.isDouble() || !(d >= static_cast<double>(least)) || d > 9.0e15 || d != static_cast<double>(v.toInteger()))
        invalid(file, std::string("'") + key + "' is not a whole number ≥ " + std::to_string(least));
    return v.toInteger();
}

FeaturePooling descriptor(const QJsonObject &o, const std::string &file)
{
    const std::string name = text(o, "descriptor", true, file);
    try {
        return parseDescriptor(name);
    } catch (const UsageError &) {
        invalid(file, "unknown descriptor '" + name + "'");
    }
}

std::vector<std::string> strings(const QJsonObject &o, const char *key, const std::string &file)
{
    std::vector<std::string> out;
    if (o[key].isUndefined())
        return out;
    if (!o[key].isArray())
        invalid(file, std::string("'") + key + "' is not a list");
    for (const QJsonValue &v : o[key].toArray()) {
        if (!v.isString())
            invalid(file, std::string("'") + key + "' holds something other than paths");
        out.push_back(v.toString().toStdString());
    }
    return out;
}

} // namespace

IndexMetadata IndexMetadata::parse(const QByteArray &json, const std::string &file)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        invalid(file, err.error != QJsonParseError::NoError ? err.errorString().toStdString() : "not an object");
    const QJsonObject o = doc.object();
    IndexMetadata m;
    m.name = text(o, "name", true, file);
    if (m.name.find_first_of("/\\") != std::string::npos || m.name == "." || m.name == "..")
        invalid(file, "the name '" + m.name + "' is not a folder name");
    m.layer = text(o, "layer", true, file);
    m.pooling = descriptor(o, file);
    m.scan = whole(o, "scan", 1, file);
    m.features = text(o, "features", true, file);
    m.model = text(o, "model", false, file);
    m.dataset = text(o, "dataset", false, file);
    m.metric = text(o, "metric", false, file);
    m.kind = text(o, "index", false, file);
    m.size = whole(o, "size", 0, file);
    m.dims = whole(o, "dims", 0, file);
    m.created = text(o, "created", false, file);
    m.added = strings(o, "added", file);
    return m;
}

QByteArray IndexMetadata::toJson() const
{
    QJsonArray addedFiles;
    for (const auto &p : added)
        addedFiles.append(q(p));
    const QJsonObject o{{"name", q(name)},       {"layer", q(layer)},     {"descriptor", descriptorName(pooling)},
                        {"scan", static_cast<qint64>(scan)}, {"features", q(features)}, {"model", q(model)},
                        {"dataset", q(dataset)}, {"metric", q(metric)},   {"index", q(kind)},
                        {"size", static_cast<qint64>(size)}, {"dims", static_cast<qint64>(dims)},
                        {"created", q(created)}, {"added", addedFiles}};
    return QJsonDocument(o).toJson();
}

} // namespace convscope
