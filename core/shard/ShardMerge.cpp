#include "shard/ShardMerge.h"

#include "common/Error.h"
#include "common/NpyHeader.h"
#include "common/NpyMatrixFile.h"
#include "scan/TopKTracker.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <optional>

namespace convscope {

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

std::string shardName(const ProjectStore::ScanInfo &s)
{
    return std::to_string(s.shardIndex) + "/" + std::to_string(s.shardCount);
}

/// A scalar JSON value as text.
std::string text(const QJsonValue &v)
{
    return v.isString() ? v.toString().toStdString() : QString::number(v.toDouble(), 'g', 15).toStdString();
}

/// What two scan identities differ in, in words.
std::string differences(const std::string &a, const std::string &b)
{
    const QJsonObject x = QJsonDocument::fromJson(QByteArray::fromStdString(a)).object();
    const QJsonObject y = QJsonDocument::fromJson(QByteArray::fromStdString(b)).object();
    const std::pair<const char *, const char *> fields[] = {
        {"model", "the model file (SHA-256)"}, {"dataset", "the dataset"},   {"images", "the number of images"},
        {"input", "the input settings"},      {"layers", "the layers"},     {"k", "top-k"},
        {"features", "the kept features"}};
    std::string out;
    for (const auto &[key, words] : fields)
        if (x.value(key) != y.value(key)) {
            out += out.empty() ? "" : ", ";
            out += words;
            const std::string k = key;
            if (k == "dataset" || k == "images" || k == "k")
                out += " (" + text(x.value(key)) + " vs " + text(y.value(key)) + ")";
        }
    return out.empty() ? "their identity" : out;
}

} // namespace

std::vector<std::string> ShardMerge::expand(const std::vector<std::string> &folders)
{
    std::vector<std::string> out;
    static const QRegularExpression shardFolder("^shard-(\\d+)-of-(\\d+)$");
    for (const auto &folder : folders) {
        const QFileInfo info(q(folder));
        if (!info.isDir())
            throw IoError("'" + folder + "' is not a folder (give shard project folders, or the project that holds "
                          "them as shard-I-of-N)");
        bool holdsShards = false;
        if (QFileInfo::exists(info.absoluteFilePath() + "/catalog.sqlite"))
            holdsShards = !ProjectStore(folder).shards().empty();
        if (holdsShards) {
            out.push_back(info.absoluteFilePath().toStdString());
            continue;
        }
        // shard-I-of-N subfolders, in shard order
        std::vector<std::pair<std::pair<int, int>, std::string>> found;
        for (const QFileInfo &sub : QDir(info.absoluteFilePath()).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            const auto m = shardFolder.match(sub.fileName());
            if (m.hasMatch() && QFileInfo::exists(sub.absoluteFilePath() + "/catalog.sqlite"))
                found.push_back({{m.captured(2).toInt(), m.captured(1).toInt()}, sub.absoluteFilePath().toStdString()});
        }
        if (found.empty())
            throw DataError("'" + folder + "' holds no shard of a scan (neither a shard project nor a project with "
                            "shard-I-of-N folders); scan with --shard I/N or --mpi first");
        std::sort(found.begin(), found.end());
        for (auto &f : found)
            out.push_back(f.second);
    }
    return out;
}

ShardMerge::ShardMerge(const std::vector<std::string> &shardProjects, const std::string &project,
                       const std::string &scanKey)
{
    const auto folders = expand(shardProjects);
    std::vector<std::pair<size_t, ProjectStore::ScanInfo>> all; // (store, shard)
    for (const auto &folder : folders) {
        if (std::any_of(stores_.begin(), stores_.end(), [&](const auto &s) {
                return QFileInfo(q(s->dir())) == QFileInfo(q(folder));
            }))
            continue; // named twice (a folder and its parent)
        stores_.push_back(std::make_unique<ProjectStore>(folder));
        const auto shards = stores_.back()->shards();
        bool any = false;
        for (const auto &s : shards)
            if (scanKey.empty() || s.baseKey.rfind(scanKey, 0) == 0) { // a key or its start
                all.push_back({stores_.size() - 1, s});
                any = true;
            }
        if (!any)
            throw DataError("'" + folder + "' holds no shard of " + (scanKey.empty() ? "a" : "this") +
                            " scan; scan with --shard I/N first");
    }
    const auto where = [&](const std::pair<size_t, ProjectStore::ScanInfo> &s) {
        return "shard " + shardName(s.second) + " in '" + stores_[s.first]->dir() + "'";
    };
    std::vector<std::pair<size_t, ProjectStore::ScanInfo>> scans; // one shard of each scan
    for (const auto &s : all)
        if (std::none_of(scans.begin(), scans.end(), [&](const auto &o) { return o.second.baseKey == s.second.baseKey; }))
            scans.push_back(s);
    if (scans.size() > 1) {
        std::string list;
        for (const auto &s : scans)
            list += "\n  " + s.second.baseKey.substr(0, 12) + ": " + QFileInfo(q(s.second.modelPath)).fileName()
                    .toStdString() + ", " + std::to_string(s.second.layers.size()) + " layers, top-" +
                    std::to_string(s.second.k) + " (" + where(s) + ")";
        throw DataError("these folders hold shards of different scans: " + where(scans[0]) + " and " +
                        where(scans[1]) + " differ in " + differences(scans[0].second.identity,
                                                                      scans[1].second.identity) +
                        ". Merge the shards of one scan at a time (--scan KEY picks one):" + list);
    }
    const int count = all.front().second.shardCount;
    for (const auto &s : all)
        if (s.second.shardCount != count)
            throw DataError("these shards come from different splits of the dataset: " + where(all.front()) +
                            " and " + where(s) + "; scan every shard with the same N in --shard I/N");
    std::vector<std::optional<size_t>> byIndex(static_cast<size_t>(count));
    for (size_t i = 0; i < all.size(); ++i) {
        auto &slot = byIndex[static_cast<size_t>(all[i].second.shardIndex)];
        if (slot)
            throw DataError("shard " + shardName(all[i].second) + " is given twice: in '" +
                            stores_[all[*slot].first]->dir() + "' and in '" + stores_[all[i].first]->dir() + "'");
        slot = i;
    }
    std::string missing;
    for (int i = 0; i < count; ++i)
        if (!byIndex[static_cast<size_t>(i)])
            missing += (missing.empty() ? "" : ", ") + std::to_string(i) + "/" + std::to_string(count);
    if (!missing.empty())
        throw DataError("shards missing: " + missing + " (scan them with --shard, or name their folders too)");
    std::vector<const ProjectStore *> storeOf;
    for (int i = 0; i < count; ++i) {
        const auto &s = all[*byIndex[static_cast<size_t>(i)]];
        if (!s.second.complete)
            throw DataError(where(s) + " is not finished (" + std::to_string(s.second.done - s.second.first) +
                            " of " + std::to_string(s.second.total - s.second.first) +
                            " images); run its scan command again to resume it, then merge");
        const std::int64_t expectedFirst = i == 0 ? 0 : shards_.back().total;
        if (s.second.first != expectedFirst)
            throw DataError(where(s) + " starts at image " + std::to_string(s.second.first) + " but the shards " +
                            "before it end at " + std::to_string(expectedFirst) + ": the ranges overlap or leave a gap");
        shards_.push_back(s.second);
        storeOf.push_back(stores_[s.first].get());
    }
    // Keep stores_ in shard order, beside shards_.
    std::vector<std::unique_ptr<ProjectStore>> ordered;
    for (const ProjectStore *p : storeOf)
        for (auto &s : stores_)
            if (s.get() == p) {
                ordered.push_back(std::move(s));
                break;
            }
    stores_ = std::move(ordered);

    out_ = std::make_unique<ProjectStore>(project);
    const ProjectStore::ScanInfo merged = out_->openMerged(shards_.front());
    mergedId_ = merged.id;
    if (merged.total != shards_.back().total)
        throw DataError("the shards end at image " + std::to_string(shards_.back().total) + " but their scan covers " +
                        std::to_string(merged.total) + " images: a shard is missing its end");
    if (merged.complete) {
        alreadyMerged_ = true;
        return;
    }
    out_->lockForWriting(mergedId_);
    // An earlier merge may have died while creating a matrix (a short file): every row is written again anyway.
    for (const auto &f : merged.features)
        QFile::remove(q(f.file));
    steps_ = static_cast<int>(shards_.size() * merged.features.size()) + 1;
}

ShardMerge::~ShardMerge() = default;

bool ShardMerge::step()
{
    if (stepsDone_ >= steps_)
        return false;
    const int copies = steps_ - 1;
    if (stepsDone_ < copies) {
        const size_t features = shards_.front().features.size();
        copyFeature(static_cast<size_t>(stepsDone_) / features, static_cast<size_t>(stepsDone_) % features);
    } else {
        finish();
    }
    ++stepsDone_;
    return stepsDone_ < steps_;
}

void ShardMerge::copyFeature(size_t shard, size_t feature)
{
    const ProjectStore::ScanInfo merged = out_->scan(mergedId_);
    const ProjectStore::ScanInfo &s = shards_[shard];
    const auto &from = s.features.at(feature);
    const auto &to = merged.features.at(feature);
    const std::int64_t rows = s.total - s.first, cols = from.dims;
    QDir().mkpath(QFileInfo(q(to.file)).absolutePath());
    NpyMatrixFile out(to.file, merged.total, cols);
    if (rows == 0)
        return; // a shard without images (fewer blocks than shards) has no matrix
    QFile in(q(from.file));
    if (!in.open(QIODevice::ReadOnly))
        throw IoError("cannot read the features of shard " + shardName(s) + ": '" + from.file +
                      "': " + in.errorString().toStdString());
    const QByteArray head = in.read(1 << 20);
    const std::size_t length = NpyHeader::length(reinterpret_cast<const unsigned char *>(head.constData()),
                                                 static_cast<std::size_t>(head.size()), from.file);
    const NpyHeader header = NpyHeader::parse(reinterpret_cast<const unsigned char *>(head.constData()),
                                              static_cast<std::size_t>(head.size()), from.file);
    if (header.descr != "<f4" || header.shape != std::vector<std::int64_t>{rows, cols} ||
        in.size() < static_cast<qint64>(length + header.dataBytes()))
        throw DataError("the features '" + from.file + "' of shard " + shardName(s) + " are not " +
                        std::to_string(rows) + " × " + std::to_string(cols) + " float32 rows (damaged?)");
    in.seek(static_cast<qint64>(header.dataOffset));
    const std::int64_t chunk = std::max<std::int64_t>(1, (16 << 20) / (cols * 4)); // ~16 MB of rows at a time
    torch::Tensor block = torch::empty({chunk, cols}, torch::kFloat32);
    for (std::int64_t r = 0; r < rows; r += chunk) {
        const std::int64_t n = std::min(chunk, rows - r);
        const qint64 bytes = n * cols * 4;
        if (in.read(static_cast<char *>(block.data_ptr()), bytes) != bytes)
            throw IoError("cannot read '" + from.file + "' (truncated?)");
        out.writeRows(s.first + r, block.narrow(0, 0, n));
    }
    out.flush();
}

void ShardMerge::finish()
{
    const ProjectStore::ScanInfo merged = out_->scan(mergedId_);
    std::vector<std::vector<std::vector<TopKTracker::Entry>>> tops;
    for (size_t l = 0; l < merged.layers.size(); ++l)
        for (auto statistic : {TopKTracker::Statistic::SpatialMax, TopKTracker::Statistic::SpatialMean}) {
            const std::int64_t channels = merged.channels[l];
            TopKTracker tracker(channels, merged.k, statistic);
            for (size_t i = 0; i < shards_.size(); ++i) {
                const auto top = stores_[i]->topOfLayer(shards_[i].id, static_cast<int>(l), statistic);
                if (static_cast<std::int64_t>(top.size()) != channels)
                    throw DataError("shard " + shardName(shards_[i]) + " holds " + std::to_string(top.size()) +
                                    " channels of '" + merged.layers[l] + "', not " + std::to_string(channels));
                for (std::int64_t c = 0; c < channels; ++c)
                    for (const auto &e : top[static_cast<size_t>(c)])
                        tracker.offer(c, e);
            }
            auto &out = tops.emplace_back(static_cast<size_t>(channels));
            for (std::int64_t c = 0; c < channels; ++c)
                out[static_cast<size_t>(c)] = tracker.top(c);
        }
    std::vector<std::pair<const ProjectStore *, ProjectStore::ScanInfo>> parts;
    for (size_t i = 0; i < shards_.size(); ++i)
        parts.push_back({stores_[i].get(), shards_[i]});
    out_->completeMerged(mergedId_, parts, tops);
}

} // namespace convscope
