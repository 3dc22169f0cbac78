#include "scan/ScanLayout.h"

#include "common/Error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace convscope {

namespace {

constexpr std::int64_t kMaxChannels = std::int64_t(1) << 24;
constexpr std::int64_t kMaxDims = std::int64_t(1) << 28;

[[noreturn]] void damaged(const std::string &where, const std::string &what)
{
    throw DataError("the project catalogue in '" + where + "' is damaged (" + what + ")");
}

QJsonDocument document(const QByteArray &json, const char *column, const std::string &where)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    if (err.error != QJsonParseError::NoError)
        damaged(where, std::string("column '") + column + "': " + err.errorString().toStdString());
    return doc;
}

/// A whole number in [1, limit] (JSON numbers are doubles: 2^53 and beyond are not exact, and are out of range).
std::int64_t count(const QJsonValue &v, std::int64_t limit, const std::string &what, const std::string &where)
{
    const double d = v.toDouble(-1);
    if (!v.isDouble() || !(d >= 1) || d > static_cast<double>(limit) || d != static_cast<double>(v.toInteger()))
        damaged(where, what + " is not a whole number between 1 and " + std::to_string(limit));
    return v.toInteger();
}

std::string name(const QJsonValue &v, const std::string &what, const std::string &where)
{
    if (!v.isString() || v.toString().isEmpty())
        damaged(where, what + " is not a name");
    return v.toString().toStdString();
}

void readLayers(const QByteArray &json, const std::string &where, ScanLayout &out)
{
    const QJsonDocument doc = document(json, "layers", where);
    const QJsonObject o = doc.object();
    if (!doc.isObject() || !o["layers"].isArray() || !o["channels"].isArray())
        damaged(where, "column 'layers' is not {\"layers\": [...], \"channels\": [...]}");
    const QJsonArray layers = o["layers"].toArray(), channels = o["channels"].toArray();
    if (layers.size() != channels.size())
        damaged(where, std::to_string(layers.size()) + " layers but " + std::to_string(channels.size()) +
                           " channel counts");
    for (qsizetype i = 0; i < layers.size(); ++i) {
        out.layers.push_back(name(layers[i], "layer " + std::to_string(i), where));
        out.channels.push_back(
            count(channels[i], kMaxChannels, "the channel count of layer " + std::to_string(i), where));
    }
}

void readFeatures(const QByteArray &json, const std::string &where, ScanLayout &out)
{
    const QJsonDocument doc = document(json, "features", where);
    if (!doc.isArray())
        damaged(where, "column 'features' is not a list");
    for (const QJsonValue &f : doc.array()) {
        const std::string what = "feature " + std::to_string(out.features.size());
        if (!f.isObject())
            damaged(where, what + " is not an object");
        const QJsonObject o = f.toObject();
        out.features.push_back({name(o["name"], what + "'s name", where), name(o["layer"], what + "'s layer", where),
                                count(o["dims"], kMaxDims, what + "'s size", where)});
    }
}

} // namespace

ScanLayout ScanLayout::parse(const QByteArray &layersJson, const QByteArray &featuresJson, const std::string &where)
{
    ScanLayout out;
    readLayers(layersJson, where, out);
    readFeatures(featuresJson, where, out);
    return out;
}

} // namespace convscope
