#include "scan/ProjectStore.h"

#include "common/Error.h"
#include "common/NpyMatrixFile.h"
#include "scan/ScanLayout.h"
#include "scan/TopKRecords.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

namespace convscope {

namespace {

// 1: top-k entries as rows (`accepted`, `topk`); 2: as binary records (`accepted_batches`, `topk_records`, see
// TopKRecords). Version 2 still reads the rows of scans written by version 1. 3: shards (scans.first,
// shard_index, shard_count, base_key, identity); earlier catalogues get the columns, their scans are whole.
constexpr int kSchemaVersion = 3;

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

std::string s(const QVariant &v)
{
    return v.toString().toStdString();
}

/// Turns a failed query into an IoError a user can act on (full disk, read-only folder, damaged file).
[[noreturn]] void fail(const std::string &dir, const QSqlError &error, const std::string &doing)
{
    const std::string text = error.text().toStdString();
    std::string hint;
    if (text.find("full") != std::string::npos)
        hint = " — the disk is full; free some space and run again (finished batches are kept)";
    else if (text.find("readonly") != std::string::npos || text.find("read-only") != std::string::npos ||
             text.find("unable to open") != std::string::npos)
        hint = " — the project folder is not writable; choose another with --project";
    else if (text.find("malformed") != std::string::npos || text.find("not a database") != std::string::npos)
        throw DataError("the project catalogue in '" + dir + "' is damaged (" + text + ")");
    throw IoError("project '" + dir + "': " + doing + " failed: " + text + hint);
}

QSqlQuery run(QSqlDatabase &db, const std::string &dir, const QString &sql, const QVariantList &values = {})
{
    QSqlQuery query(db);
    query.setForwardOnly(true); // every caller reads rows once, in order
    if (!query.prepare(sql))
        fail(dir, query.lastError(), "preparing a query");
    for (const auto &v : values)
        query.addBindValue(v);
    if (!query.exec())
        fail(dir, query.lastError(), "a query");
    return query;
}

std::string safeFileName(std::string name)
{
    for (char &c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
            c = '_';
    return name;
}

} // namespace

ProjectStore::ProjectStore(const std::string &dir) : dir_(QDir(q(dir)).absolutePath().toStdString())
{
    if (!QDir().mkpath(q(dir_)))
        throw IoError("cannot create the project folder '" + dir_ + "' (not writable?)");
    if (!QFileInfo(q(dir_)).isWritable())
        throw IoError("the project folder '" + dir_ + "' is not writable; choose another with --project");
    connection_ = "convscope-" + QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
    QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", q(connection_));
    db.setDatabaseName(q(dir_ + "/catalog.sqlite"));
    if (!db.open())
        fail(dir_, db.lastError(), "opening the catalogue");
    run(db, dir_, "PRAGMA journal_mode=WAL");   // readers never block the scan; a kill never tears a transaction
    run(db, dir_, "PRAGMA synchronous=NORMAL"); // safe against a killed process; fsync per checkpoint
    run(db, dir_, "PRAGMA busy_timeout=5000");
    const char *schema[] = {
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)",
        "CREATE TABLE IF NOT EXISTS scans(id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, model_path TEXT, "
        "model_sha256 TEXT, dataset TEXT, total INTEGER, done INTEGER NOT NULL DEFAULT 0, k INTEGER, "
        "layers TEXT, features TEXT, complete INTEGER NOT NULL DEFAULT 0, created TEXT, updated TEXT, "
        "seconds REAL NOT NULL DEFAULT 0, first INTEGER NOT NULL DEFAULT 0, shard_index INTEGER NOT NULL DEFAULT 0, "
        "shard_count INTEGER NOT NULL DEFAULT 0, base_key TEXT, identity TEXT)",
        "CREATE TABLE IF NOT EXISTS images(scan INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT, label INTEGER, "
        "predicted INTEGER, confidence REAL, skipped TEXT, PRIMARY KEY(scan, idx)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS accepted(scan INTEGER NOT NULL, tracker INTEGER NOT NULL, channel INTEGER, "
        "image INTEGER, value REAL, y INTEGER, x INTEGER)",
        "CREATE INDEX IF NOT EXISTS accepted_by_scan ON accepted(scan)",
        "CREATE TABLE IF NOT EXISTS topk(scan INTEGER NOT NULL, layer INTEGER NOT NULL, ranking INTEGER NOT NULL, "
        "channel INTEGER NOT NULL, rank INTEGER NOT NULL, image INTEGER, value REAL, y INTEGER, x INTEGER, "
        "PRIMARY KEY(scan, layer, ranking, channel, rank)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS accepted_batches(scan INTEGER NOT NULL, first INTEGER NOT NULL, entries BLOB, "
        "PRIMARY KEY(scan, first))",
        "CREATE TABLE IF NOT EXISTS topk_records(scan INTEGER NOT NULL, layer INTEGER NOT NULL, "
        "ranking INTEGER NOT NULL, entries BLOB, PRIMARY KEY(scan, layer, ranking))",
    };
    // One writer at a time: two processes opening an old catalogue together must not both add the columns.
    run(db, dir_, "BEGIN IMMEDIATE");
    try {
        for (const char *sql : schema)
            run(db, dir_, sql);
        QStringList have; // catalogues of schema 2 and older: the shard columns (their scans are whole)
        {
            QSqlQuery columns = run(db, dir_, "PRAGMA table_info(scans)");
            while (columns.next())
                have << columns.value(1).toString();
        }
        const std::pair<const char *, const char *> added[] = {
            {"first", "INTEGER NOT NULL DEFAULT 0"}, {"shard_index", "INTEGER NOT NULL DEFAULT 0"},
            {"shard_count", "INTEGER NOT NULL DEFAULT 0"}, {"base_key", "TEXT"}, {"identity", "TEXT"}};
        for (const auto &[name, type] : added)
            if (!have.contains(name))
                run(db, dir_, QString("ALTER TABLE scans ADD COLUMN %1 %2").arg(name, type));
        QVariant stored;
        {
            QSqlQuery version = run(db, dir_, "SELECT value FROM meta WHERE key='schema'");
            if (version.next())
                stored = version.value(0);
        }
        if (!stored.isValid())
            run(db, dir_, "INSERT INTO meta(key, value) VALUES('schema', ?)", {kSchemaVersion});
        else if (stored.toInt() > kSchemaVersion)
            throw DataError("the project in '" + dir_ + "' was written by a newer Convscope (schema " + s(stored) +
                            ")");
        else if (stored.toInt() < kSchemaVersion) // the tables above are there now; older rows stay readable
            run(db, dir_, "UPDATE meta SET value=? WHERE key='schema'", {kSchemaVersion});
        run(db, dir_, "COMMIT");
    } catch (...) {
        QSqlQuery(db).exec("ROLLBACK");
        throw;
    }
}

ProjectStore::~ProjectStore()
{
    featureFiles_.clear();
    locks_.clear();
    {
        QSqlDatabase db = QSqlDatabase::database(q(connection_), false);
        db.close();
    }
    QSqlDatabase::removeDatabase(q(connection_));
}

std::string ProjectStore::sha256(const std::string &path)
{
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read '" + path + "': " + f.errorString().toStdString());
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&f))
        throw IoError("cannot read '" + path + "'");
    return hash.result().toHex().toStdString();
}

ProjectStore::Identity ProjectStore::identity(const Model &model, const std::string &datasetPath,
                                              const Scan &scan) const
{
    Identity id;
    id.modelHash = sha256(model.path());
    id.dataset = QFileInfo(q(datasetPath)).absoluteFilePath().toStdString();
    const InputSpec &in = model.input();
    QJsonArray layers, channels, features, mean, stdev;
    for (const auto &r : scan.layers()) {
        layers.append(q(model.layers()[r.layer].path));
        channels.append(static_cast<qint64>(r.byMax.channels()));
    }
    for (const auto &feat : scan.features())
        features.append(QJsonObject{{"name", q(feat.name)}, {"layer", q(model.layers()[feat.layer].path)},
                                    {"dims", static_cast<qint64>(feat.dims)}});
    for (float m : in.mean)
        mean.append(m);
    for (float v : in.std)
        stdev.append(v);
    const int k = scan.layers().front().byMax.k();
    QJsonObject input{{"w", in.width},     {"h", in.height},     {"c", in.channels},
                      {"mean", mean},      {"std", stdev},       {"range", in.range},
                      {"resize", static_cast<int>(in.resize)}};
    if (in.channels == 3 && in.order == ChannelOrder::Bgr)
        input["order"] = "bgr"; // only then: the scans of RGB models keep the identity they had
    QJsonObject identity{{"model", q(id.modelHash)}, {"dataset", q(id.dataset)},
                               {"images", static_cast<qint64>(scan.datasetImages())}, {"layers", layers}, {"k", k},
                               {"features", features}, {"input", input}};
    auto hash = [](const QJsonObject &o) {
        return QCryptographicHash::hash(QJsonDocument(o).toJson(QJsonDocument::Compact), QCryptographicHash::Sha256)
            .toHex()
            .toStdString();
    };
    id.json = QJsonDocument(identity).toJson(QJsonDocument::Compact).toStdString();
    id.key = id.baseKey = hash(identity); // a whole scan's key, as before shards existed
    if (scan.shardCount() > 0) {
        identity["shard"] = QJsonArray{scan.shardIndex(), scan.shardCount()};
        id.key = hash(identity);
    }
    id.layers = QJsonDocument(QJsonObject{{"layers", layers}, {"channels", channels}}).toJson(QJsonDocument::Compact);
    id.features = QJsonDocument(features).toJson(QJsonDocument::Compact);
    return id;
}

std::optional<ProjectStore::ScanInfo> ProjectStore::scanWithKey(const std::string &key) const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery found = run(db, dir_, "SELECT id FROM scans WHERE key=?", {q(key)});
    if (!found.next())
        return std::nullopt;
    return this->scan(found.value(0).toLongLong());
}

std::optional<ProjectStore::ScanInfo> ProjectStore::findScan(const Model &model, const std::string &datasetPath,
                                                             const Scan &scan) const
{
    return scanWithKey(identity(model, datasetPath, scan).key);
}

ProjectStore::ScanInfo ProjectStore::openScan(const Model &model, const std::string &datasetPath, const Scan &scan)
{
    const Identity id = identity(model, datasetPath, scan); // hashes the model file: once
    if (auto existing = scanWithKey(id.key))
        return *existing;
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    const QString now = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    run(db, dir_,
        "INSERT INTO scans(key, model_path, model_sha256, dataset, total, k, layers, features, created, updated, "
        "first, done, shard_index, shard_count, base_key, identity) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {q(id.key), q(model.path()), q(id.modelHash), q(id.dataset), static_cast<qint64>(scan.total()),
         scan.layers().front().byMax.k(), id.layers, id.features, now, now, static_cast<qint64>(scan.first()),
         static_cast<qint64>(scan.first()), scan.shardIndex(), scan.shardCount(), q(id.baseKey), q(id.json)});
    return *scanWithKey(id.key);
}

ProjectStore::ScanInfo ProjectStore::scan(std::int64_t id) const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_,
                      "SELECT key, model_path, model_sha256, dataset, total, done, k, layers, features, complete, "
                      "created, updated, seconds, first, shard_index, shard_count, base_key, identity FROM scans "
                      "WHERE id=?",
                      {static_cast<qint64>(id)});
    if (!r.next())
        throw DataError("project '" + dir_ + "' has no scan " + std::to_string(id));
    ScanInfo info;
    info.id = id;
    info.key = s(r.value(0));
    info.modelPath = s(r.value(1));
    info.modelSha256 = s(r.value(2));
    info.dataset = s(r.value(3));
    info.total = r.value(4).toLongLong();
    info.done = r.value(5).toLongLong();
    info.k = r.value(6).toInt();
    info.first = r.value(13).toLongLong();
    info.shardIndex = r.value(14).toInt();
    info.shardCount = r.value(15).toInt();
    info.baseKey = r.value(16).isNull() ? info.key : s(r.value(16));
    info.identity = s(r.value(17));
    if (info.total < 0 || info.first < 0 || info.first > info.total || info.done < info.first ||
        info.done > info.total || info.k < 0 || info.shardCount < 0 ||
        (info.shardCount > 0 && (info.shardIndex < 0 || info.shardIndex >= info.shardCount)))
        throw DataError("the project catalogue in '" + dir_ + "' is damaged (scan " + std::to_string(id) + ": " +
                        std::to_string(info.done) + " of " + std::to_string(info.total) + " images, k " +
                        std::to_string(info.k) + ")");
    ScanLayout layout = ScanLayout::parse(r.value(7).toByteArray(), r.value(8).toByteArray(), dir_);
    info.layers = std::move(layout.layers);
    info.channels = std::move(layout.channels);
    for (const auto &f : layout.features)
        info.features.push_back({f.name, f.layer, f.dims,
                                 dir_ + "/scan-" + std::to_string(id) + "/" + safeFileName(f.name) + ".npy"});
    info.complete = r.value(9).toInt() != 0;
    info.created = s(r.value(10));
    info.updated = s(r.value(11));
    info.seconds = r.value(12).toDouble();
    return info;
}

std::vector<ProjectStore::ScanInfo> ProjectStore::scans() const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_, "SELECT id FROM scans WHERE shard_count=0 ORDER BY id");
    std::vector<ScanInfo> out;
    while (r.next())
        out.push_back(scan(r.value(0).toLongLong()));
    return out;
}

std::vector<ProjectStore::ScanInfo> ProjectStore::shards() const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_, "SELECT id FROM scans WHERE shard_count>0 ORDER BY id");
    std::vector<ScanInfo> out;
    while (r.next())
        out.push_back(scan(r.value(0).toLongLong()));
    return out;
}

std::optional<ProjectStore::ScanInfo> ProjectStore::latestComplete(const std::string &modelPath) const
{
    auto all = scans();
    for (auto it = all.rbegin(); it != all.rend(); ++it)
        if (it->complete && (modelPath.empty() || QFileInfo(q(it->modelPath)) == QFileInfo(q(modelPath))))
            return *it;
    return std::nullopt;
}

void ProjectStore::lockForWriting(std::int64_t id)
{
    if (locks_.count(id))
        return;
    auto lock = std::make_unique<QLockFile>(q(dir_ + "/scan-" + std::to_string(id) + ".lock"));
    lock->setStaleLockTime(0); // a lock is stale only when its process is gone (e.g. killed)
    if (!lock->tryLock(0)) {
        qint64 pid = 0;
        QString host, app;
        lock->getLockInfo(&pid, &host, &app);
        throw IoError("scan " + std::to_string(id) + " in '" + dir_ + "' is being written by another process (pid " +
                      std::to_string(pid) + "); wait for it or stop it");
    }
    locks_[id] = std::move(lock);
}

void ProjectStore::discard(std::int64_t id)
{
    const ScanInfo info = scan(id);
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    if (!db.transaction())
        fail(dir_, db.lastError(), "starting a transaction");
    try {
        for (const char *table : {"images", "accepted", "topk", "accepted_batches", "topk_records"})
            run(db, dir_, QString("DELETE FROM %1 WHERE scan=?").arg(table), {static_cast<qint64>(id)});
        run(db, dir_, "UPDATE scans SET done=first, complete=0, seconds=0 WHERE id=?", {static_cast<qint64>(id)});
        if (!db.commit())
            fail(dir_, db.lastError(), "discarding a scan");
    } catch (...) {
        db.rollback();
        throw;
    }
    for (size_t f = 0; f < info.features.size(); ++f) {
        featureFiles_.erase({id, f});
        QFile::remove(q(info.features[f].file));
    }
}

std::vector<std::vector<TopKTracker::Accepted>> ProjectStore::acceptedEntries(std::int64_t id) const
{
    const ScanInfo info = scan(id);
    std::vector<std::vector<TopKTracker::Accepted>> out(2 * info.layers.size());
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_, "SELECT tracker, channel, image, value, y, x FROM accepted WHERE scan=? ORDER BY rowid",
                      {static_cast<qint64>(id)});
    while (r.next()) {
        const auto t = static_cast<size_t>(r.value(0).toInt());
        if (t >= out.size())
            throw DataError("the project catalogue in '" + dir_ + "' is damaged (tracker " + std::to_string(t) + ")");
        out[t].push_back({r.value(1).toLongLong(),
                          {static_cast<float>(r.value(3).toDouble()), r.value(2).toLongLong(), r.value(4).toInt(),
                           r.value(5).toInt()}});
    }
    // Replaying is order-free (a top k of a set), so the rows of version 1 and the records of version 2 mix.
    QSqlQuery batches = run(db, dir_, "SELECT entries FROM accepted_batches WHERE scan=? ORDER BY first",
                            {static_cast<qint64>(id)});
    while (batches.next())
        TopKRecords::unpackAccepted(batches.value(0).toByteArray(), out);
    return out;
}

NpyMatrixFile &ProjectStore::featureFile(std::int64_t id, size_t feature)
{
    auto &slot = featureFiles_[{id, feature}];
    if (!slot) {
        const ScanInfo info = scan(id);
        const FeatureInfo &f = info.features.at(feature);
        QDir().mkpath(QFileInfo(q(f.file)).absolutePath());
        slot = std::make_unique<NpyMatrixFile>(f.file, info.total - info.first, f.dims); // a shard: its rows
        firstRow_[id] = info.first;
    }
    return *slot;
}

void ProjectStore::recordBatch(std::int64_t id, const ScanBatch &batch, const ImageSource &source, double seconds)
{
    // Feature rows first: if the process dies before the commit, the rows are simply written again.
    for (size_t f = 0; f < batch.features.size(); ++f) {
        NpyMatrixFile &file = featureFile(id, f);
        const torch::Tensor &rows = batch.features[f];
        // Consecutive images (all of them, unless some were skipped) go out in one write.
        for (size_t i = 0; i < batch.indices.size();) {
            size_t end = i + 1;
            while (end < batch.indices.size() && batch.indices[end] == batch.indices[end - 1] + 1)
                ++end;
            file.writeRows(batch.indices[i] - firstRow_[id], rows.narrow(0, static_cast<int64_t>(i), static_cast<int64_t>(end - i)));
            i = end;
        }
        file.flush();
    }
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    if (!db.transaction())
        fail(dir_, db.lastError(), "starting a transaction");
    try {
        QSqlQuery image(db);
        image.prepare("INSERT OR REPLACE INTO images(scan, idx, name, label, predicted, confidence, skipped) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?)");
        auto addImage = [&](std::int64_t index, int label, int predicted, QVariant confidence, QVariant skipped) {
            for (const QVariant &v : {QVariant(static_cast<qint64>(id)), QVariant(static_cast<qint64>(index)),
                                      QVariant(q(source.name(index))), QVariant(label), QVariant(predicted),
                                      confidence, skipped})
                image.addBindValue(v);
            if (!image.exec())
                fail(dir_, image.lastError(), "recording an image");
        };
        for (size_t i = 0; i < batch.indices.size(); ++i)
            addImage(batch.indices[i], batch.labels.at(i), batch.predicted.at(i), batch.confidence.at(i), QVariant());
        for (const auto &sk : batch.skipped)
            addImage(sk.index, source.label(sk.index), -1, QVariant(), q(sk.reason));
        size_t entries = 0;
        for (const auto &t : batch.accepted)
            entries += t.size();
        if (entries > 0)
            run(db, dir_, "INSERT OR REPLACE INTO accepted_batches(scan, first, entries) VALUES(?, ?, ?)",
                {static_cast<qint64>(id), static_cast<qint64>(batch.first), TopKRecords::packAccepted(batch.accepted)});
        run(db, dir_, "UPDATE scans SET done=?, updated=?, seconds=seconds+? WHERE id=?",
            {static_cast<qint64>(batch.first + batch.count), QDateTime::currentDateTimeUtc().toString(Qt::ISODate),
             seconds, static_cast<qint64>(id)});
        if (!db.commit())
            fail(dir_, db.lastError(), "committing a batch");
    } catch (...) {
        db.rollback();
        throw;
    }
}

void ProjectStore::writeTop(std::int64_t id, const std::vector<std::vector<std::vector<TopKTracker::Entry>>> &tops,
                            int k)
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    for (const char *table : {"topk", "topk_records"})
        run(db, dir_, QString("DELETE FROM %1 WHERE scan=?").arg(table), {static_cast<qint64>(id)});
    QSqlQuery insert(db);
    insert.prepare("INSERT INTO topk_records(scan, layer, ranking, entries) VALUES(?, ?, ?, ?)");
    for (size_t t = 0; t < tops.size(); ++t) {
        for (const QVariant &v : {QVariant(static_cast<qint64>(id)), QVariant(static_cast<int>(t / 2)),
                                  QVariant(static_cast<int>(t % 2)), QVariant(TopKRecords::packTop(tops[t], k))})
            insert.addBindValue(v);
        if (!insert.exec())
            fail(dir_, insert.lastError(), "writing the top-k table");
    }
    for (const char *table : {"accepted", "accepted_batches"})
        run(db, dir_, QString("DELETE FROM %1 WHERE scan=?").arg(table), {static_cast<qint64>(id)});
}

void ProjectStore::complete(std::int64_t id, const Scan &scan)
{
    std::vector<std::vector<std::vector<TopKTracker::Entry>>> tops;
    for (size_t l = 0; l < scan.layers().size(); ++l)
        for (int ranking = 0; ranking < 2; ++ranking) {
            const TopKTracker &t = ranking ? scan.layers()[l].byMean : scan.layers()[l].byMax;
            auto &top = tops.emplace_back(static_cast<size_t>(t.channels()));
            for (std::int64_t c = 0; c < t.channels(); ++c)
                top[static_cast<size_t>(c)] = t.top(c);
        }
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    if (!db.transaction())
        fail(dir_, db.lastError(), "starting a transaction");
    try {
        writeTop(id, tops, scan.layers().front().byMax.k());
        run(db, dir_, "UPDATE scans SET complete=1, done=total, updated=? WHERE id=?",
            {QDateTime::currentDateTimeUtc().toString(Qt::ISODate), static_cast<qint64>(id)});
        if (!db.commit())
            fail(dir_, db.lastError(), "completing the scan");
    } catch (...) {
        db.rollback();
        throw;
    }
}

ProjectStore::ScanInfo ProjectStore::openMerged(const ScanInfo &shard)
{
    if (auto existing = scanWithKey(shard.baseKey))
        return *existing;
    const auto identity = QJsonDocument::fromJson(QByteArray::fromStdString(shard.identity)).object();
    const qint64 images = identity.value("images").toInteger(-1);
    if (images < shard.total)
        throw DataError("the shard catalogue in '" + dir_ + "' is damaged (no image count in its identity)");
    QJsonArray layers, channels, features;
    for (size_t l = 0; l < shard.layers.size(); ++l) {
        layers.append(q(shard.layers[l]));
        channels.append(static_cast<qint64>(shard.channels[l]));
    }
    for (const auto &f : shard.features)
        features.append(QJsonObject{{"name", q(f.name)}, {"layer", q(f.layer)}, {"dims", static_cast<qint64>(f.dims)}});
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    const QString now = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    run(db, dir_,
        "INSERT INTO scans(key, model_path, model_sha256, dataset, total, k, layers, features, created, updated, "
        "base_key, identity) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {q(shard.baseKey), q(shard.modelPath), q(shard.modelSha256), q(shard.dataset), images, shard.k,
         QJsonDocument(QJsonObject{{"layers", layers}, {"channels", channels}}).toJson(QJsonDocument::Compact),
         QJsonDocument(features).toJson(QJsonDocument::Compact), now, now, q(shard.baseKey), q(shard.identity)});
    return *scanWithKey(shard.baseKey);
}

void ProjectStore::forEachImage(std::int64_t id, const std::function<void(const ImageRow &)> &visit) const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_,
                      "SELECT idx, name, label, predicted, confidence, skipped FROM images WHERE scan=? ORDER BY idx",
                      {static_cast<qint64>(id)});
    while (r.next())
        visit({r.value(0).toLongLong(), s(r.value(1)), r.value(2).toInt(), r.value(3).toInt(), r.value(4).toFloat(),
               s(r.value(5))});
}

void ProjectStore::completeMerged(std::int64_t id, const std::vector<std::pair<const ProjectStore *, ScanInfo>> &shards,
                                  const std::vector<std::vector<std::vector<TopKTracker::Entry>>> &tops)
{
    const ScanInfo info = scan(id);
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    if (!db.transaction())
        fail(dir_, db.lastError(), "starting a transaction");
    try {
        run(db, dir_, "DELETE FROM images WHERE scan=?", {static_cast<qint64>(id)});
        QSqlQuery image(db);
        image.prepare("INSERT INTO images(scan, idx, name, label, predicted, confidence, skipped) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?)");
        double seconds = 0;
        for (const auto &[store, shard] : shards) {
            seconds += shard.seconds;
            store->forEachImage(shard.id, [&](const ImageRow &row) {
                const bool skipped = !row.skipped.empty();
                for (const QVariant &v :
                     {QVariant(static_cast<qint64>(id)), QVariant(static_cast<qint64>(row.index)), QVariant(q(row.name)),
                      QVariant(row.label), QVariant(row.predicted), skipped ? QVariant() : QVariant(row.confidence),
                      skipped ? QVariant(q(row.skipped)) : QVariant()})
                    image.addBindValue(v);
                if (!image.exec())
                    fail(dir_, image.lastError(), "recording an image");
            });
        }
        writeTop(id, tops, info.k);
        run(db, dir_, "UPDATE scans SET complete=1, done=total, seconds=?, updated=? WHERE id=?",
            {seconds, QDateTime::currentDateTimeUtc().toString(Qt::ISODate), static_cast<qint64>(id)});
        if (!db.commit())
            fail(dir_, db.lastError(), "completing the merged scan");
    } catch (...) {
        db.rollback();
        throw;
    }
}

ProjectStore::ImageRow ProjectStore::image(std::int64_t id, std::int64_t index) const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_, "SELECT name, label, predicted, confidence, skipped FROM images WHERE scan=? AND idx=?",
                      {static_cast<qint64>(id), static_cast<qint64>(index)});
    if (!r.next())
        throw DataError("image " + std::to_string(index) + " is not in scan " + std::to_string(id));
    return {index, s(r.value(0)), r.value(1).toInt(), r.value(2).toInt(), r.value(3).toFloat(), s(r.value(4))};
}

std::vector<SkippedImage> ProjectStore::skipped(std::int64_t id) const
{
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery r = run(db, dir_, "SELECT idx, name, skipped FROM images WHERE scan=? AND skipped IS NOT NULL ORDER BY idx",
                      {static_cast<qint64>(id)});
    std::vector<SkippedImage> out;
    while (r.next())
        out.push_back({r.value(0).toLongLong(), s(r.value(1)), s(r.value(2))});
    return out;
}

std::vector<std::vector<TopKTracker::Entry>> ProjectStore::topOfLayer(std::int64_t id, int layer,
                                                                      TopKTracker::Statistic statistic) const
{
    const ScanInfo info = scan(id);
    if (!info.complete)
        throw DataError("scan " + std::to_string(id) + " is not finished (" + std::to_string(info.done) + " of " +
                        std::to_string(info.total) + " images); run the scan again to complete it");
    if (layer < 0 || layer >= static_cast<int>(info.layers.size()))
        throw UsageError("scan " + std::to_string(id) + " has no layer " + std::to_string(layer));
    const std::int64_t channels = info.channels[static_cast<size_t>(layer)];
    const int ranking = statistic == TopKTracker::Statistic::SpatialMean ? 1 : 0;
    QSqlDatabase db = QSqlDatabase::database(q(connection_));
    QSqlQuery record = run(db, dir_, "SELECT entries FROM topk_records WHERE scan=? AND layer=? AND ranking=?",
                           {static_cast<qint64>(id), layer, ranking});
    if (record.next())
        return TopKRecords::unpackTop(record.value(0).toByteArray(), channels, info.k);
    // A scan completed by version 1: one row per entry.
    std::vector<std::vector<TopKTracker::Entry>> out(static_cast<size_t>(channels));
    QSqlQuery r = run(db, dir_,
                      "SELECT channel, image, value, y, x FROM topk WHERE scan=? AND layer=? AND ranking=? "
                      "ORDER BY channel, rank",
                      {static_cast<qint64>(id), layer, ranking});
    while (r.next()) {
        const auto c = static_cast<size_t>(r.value(0).toLongLong());
        if (c < out.size())
            out[c].push_back({static_cast<float>(r.value(2).toDouble()), r.value(1).toLongLong(), r.value(3).toInt(),
                              r.value(4).toInt()});
    }
    return out;
}

std::vector<TopKTracker::Entry> ProjectStore::top(std::int64_t id, int layer, TopKTracker::Statistic statistic,
                                                  std::int64_t channel) const
{
    auto all = topOfLayer(id, layer, statistic);
    if (channel < 0 || channel >= static_cast<std::int64_t>(all.size()))
        throw UsageError("layer has no channel " + std::to_string(channel));
    return all[static_cast<size_t>(channel)];
}

} // namespace convscope
