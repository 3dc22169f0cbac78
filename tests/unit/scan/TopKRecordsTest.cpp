// The binary top-k records of a project catalogue: what is packed reads back exactly; damaged blobs give a
// DataError; a project written with one row per entry (schema 1) still reads and resumes.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "scan/ProjectStore.h"
#include "scan/StoredScan.h"
#include "scan/TopKRecords.h"
#include "TestPaths.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QVariant>

#include <limits>

using namespace convscope;

namespace {

bool same(const TopKTracker::Entry &a, const TopKTracker::Entry &b)
{
    return a.image == b.image && a.y == b.y && a.x == b.x &&
           (a.value == b.value || (std::isnan(a.value) && std::isnan(b.value)));
}

StoredScan::Options demoOptions(const QTemporaryDir &dir)
{
    StoredScan::Options o;
    o.project = dir.path().toStdString();
    o.scan.limit = 300;
    o.scan.batchSize = 50;
    o.scan.layers = {"features.conv2", "classifier.fc1"};
    o.scan.noFeatures = true;
    return o;
}

} // namespace

TEST_CASE("top-k records: packed entries read back exactly, damaged blobs are refused", "[scan][store]")
{
    torch::manual_seed(3);
    TopKTracker tracker(37, 9, TopKTracker::Statistic::SpatialMax);
    tracker.setRecording(true);
    std::vector<std::int64_t> images(5);
    for (int i = 0; i < 5; ++i)
        images[static_cast<size_t>(i)] = 1000000000000LL + i; // beyond 32 bits
    torch::Tensor maps = torch::randn({5, 37, 6, 7});
    maps[0][3].fill_(-std::numeric_limits<float>::infinity());
    tracker.add(maps, images);

    std::vector<std::vector<TopKTracker::Entry>> tops;
    for (std::int64_t c = 0; c < 37; ++c)
        tops.push_back(tracker.top(c));
    const auto top = TopKRecords::unpackTop(TopKRecords::packTop(tops, 9), 37, 9);
    REQUIRE(top.size() == 37);
    for (std::int64_t c = 0; c < 37; ++c) {
        const auto expected = tracker.top(c);
        REQUIRE(top[static_cast<size_t>(c)].size() == expected.size()); // 5 images seen: at most 5 of 9 slots filled
        CHECK(expected.size() == (c == 3 ? 4u : 5u)); // a map of -inf enters no ranking
        for (size_t j = 0; j < expected.size(); ++j)
            CHECK(same(top[static_cast<size_t>(c)][j], expected[j]));
    }

    std::vector<std::vector<TopKTracker::Accepted>> accepted(3);
    accepted[2] = tracker.takeAccepted();
    accepted[0].push_back({5, {std::numeric_limits<float>::quiet_NaN(), 7, -1, -1}});
    const QByteArray blob = TopKRecords::packAccepted(accepted);
    std::vector<std::vector<TopKTracker::Accepted>> back(3);
    TopKRecords::unpackAccepted(blob, back);
    REQUIRE(back[1].empty());
    REQUIRE(back[0].size() == 1);
    REQUIRE(back[2].size() == accepted[2].size());
    CHECK(accepted[2].size() == 37 * 5 - 1);
    for (size_t i = 0; i < back[2].size(); ++i) {
        CHECK(back[2][i].channel == accepted[2][i].channel);
        CHECK(same(back[2][i].entry, accepted[2][i].entry));
    }
    CHECK(same(back[0][0].entry, accepted[0][0].entry));

    // Damaged: a cut record, a tracker that does not exist, a top-k blob of the wrong size.
    std::vector<std::vector<TopKTracker::Accepted>> two(2);
    CHECK_THROWS_AS(TopKRecords::unpackAccepted(blob.left(blob.size() - 3), back), DataError);
    CHECK_THROWS_AS(TopKRecords::unpackAccepted(blob, two), DataError);
    CHECK_THROWS_AS(TopKRecords::unpackTop(TopKRecords::packTop(tops, 9), 36, 9), DataError);
    CHECK_THROWS_AS(TopKRecords::unpackTop(QByteArray(7, 'x'), 1, 1), DataError);
    CHECK(TopKRecords::unpackTop(QByteArray(), 0, 9).empty());
}

TEST_CASE("top-k records: a project written with one row per entry (schema 1) reads and resumes", "[scan][store]")
{
    auto model = Model::load(testpaths::demoModel());
    const std::string data = testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz";
    std::shared_ptr<const ImageSource> source = ImageSource::open(data);
    QTemporaryDir whole, legacy;
    StoredScan a(model, source, data, demoOptions(whole));
    while (a.run(2)) {
    }
    const auto info = a.info();

    // Half a scan, then its records rewritten the way schema 1 kept them: one `accepted` row per entry.
    std::int64_t id = -1;
    {
        StoredScan b(model, source, data, demoOptions(legacy));
        b.run(3);
        id = b.id();
    }
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "legacy");
        db.setDatabaseName(legacy.filePath("catalog.sqlite"));
        REQUIRE(db.open());
        QSqlQuery blobs(db);
        REQUIRE(blobs.exec("SELECT entries FROM accepted_batches"));
        std::vector<std::vector<TopKTracker::Accepted>> entries(4);
        while (blobs.next())
            TopKRecords::unpackAccepted(blobs.value(0).toByteArray(), entries);
        REQUIRE_FALSE(entries[0].empty());
        QSqlQuery insert(db);
        REQUIRE(db.transaction());
        insert.prepare("INSERT INTO accepted(scan, tracker, channel, image, value, y, x) VALUES(?, ?, ?, ?, ?, ?, ?)");
        for (size_t t = 0; t < entries.size(); ++t)
            for (const auto &e : entries[t]) {
                for (const QVariant &v : {QVariant(static_cast<qint64>(id)), QVariant(static_cast<int>(t)),
                                          QVariant(static_cast<qint64>(e.channel)),
                                          QVariant(static_cast<qint64>(e.entry.image)),
                                          QVariant(static_cast<double>(e.entry.value)), QVariant(e.entry.y),
                                          QVariant(e.entry.x)})
                    insert.addBindValue(v);
                REQUIRE(insert.exec());
            }
        QSqlQuery(db).exec("DELETE FROM accepted_batches");
        QSqlQuery(db).exec("UPDATE meta SET value='1' WHERE key='schema'");
        REQUIRE(db.commit());
        db.close();
    }
    QSqlDatabase::removeDatabase("legacy");
    StoredScan c(model, source, data, demoOptions(legacy));
    CHECK(c.resumedAt() == 150);
    while (c.run(2)) {
    }
    const auto infoC = c.info();
    REQUIRE(infoC.complete);
    for (int l = 0; l < 2; ++l)
        for (auto st : {TopKTracker::Statistic::SpatialMax, TopKTracker::Statistic::SpatialMean}) {
            const auto ta = a.store().topOfLayer(info.id, l, st), tc = c.store().topOfLayer(infoC.id, l, st);
            REQUIRE(ta.size() == tc.size());
            for (size_t ch = 0; ch < ta.size(); ++ch) {
                REQUIRE(ta[ch].size() == 9);
                REQUIRE(tc[ch].size() == 9);
                for (size_t j = 0; j < 9; ++j)
                    CHECK(same(ta[ch][j], tc[ch][j]));
            }
        }

    // A scan completed by schema 1: the final top k as `topk` rows.
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "legacy-topk");
        db.setDatabaseName(legacy.filePath("catalog.sqlite"));
        REQUIRE(db.open());
        REQUIRE(db.transaction());
        QSqlQuery insert(db);
        insert.prepare("INSERT INTO topk(scan, layer, ranking, channel, rank, image, value, y, x) "
                       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
        for (int l = 0; l < 2; ++l)
            for (int ranking = 0; ranking < 2; ++ranking) {
                const auto top = c.store().topOfLayer(infoC.id, l, ranking ? TopKTracker::Statistic::SpatialMean
                                                                           : TopKTracker::Statistic::SpatialMax);
                for (size_t ch = 0; ch < top.size(); ++ch)
                    for (size_t j = 0; j < top[ch].size(); ++j) {
                        const auto &e = top[ch][j];
                        for (const QVariant &v : {QVariant(static_cast<qint64>(infoC.id)), QVariant(l),
                                                  QVariant(ranking), QVariant(static_cast<qint64>(ch)),
                                                  QVariant(static_cast<int>(j)), QVariant(static_cast<qint64>(e.image)),
                                                  QVariant(static_cast<double>(e.value)), QVariant(e.y), QVariant(e.x)})
                            insert.addBindValue(v);
                        REQUIRE(insert.exec());
                    }
            }
        QSqlQuery(db).exec("DELETE FROM topk_records");
        REQUIRE(db.commit());
        db.close();
    }
    QSqlDatabase::removeDatabase("legacy-topk");
    ProjectStore reopened(legacy.path().toStdString());
    const auto rows = reopened.topOfLayer(infoC.id, 0, TopKTracker::Statistic::SpatialMax);
    const auto records = a.store().topOfLayer(info.id, 0, TopKTracker::Statistic::SpatialMax);
    REQUIRE(rows.size() == records.size());
    for (size_t ch = 0; ch < rows.size(); ++ch) {
        REQUIRE(rows[ch].size() == 9);
        for (size_t j = 0; j < 9; ++j)
            CHECK(same(rows[ch][j], records[ch][j]));
    }
}
