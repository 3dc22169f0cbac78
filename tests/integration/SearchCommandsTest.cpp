// Similar-image search end to end: index a scanned demo project (exact, HNSW, IVF-PQ), search by image and by
// region with the channels that explain each result, and the layer × descriptor × PCA table.
#include "CatchTorch.h"

#include "CliRunner.h"

#include <set>

#include <QJsonArray>
#include <QTextStream>

using namespace clirunner;

namespace {

QJsonArray results(const QByteArray &json)
{
    const QJsonArray queries = QJsonDocument::fromJson(json).array();
    REQUIRE(queries.size() == 1);
    return queries[0].toObject()["results"].toArray();
}

} // namespace

TEST_CASE("cli index and search: same-class neighbours, exact and approximate, by image and by region",
          "[cli][search]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "2000", "--quiet", "--project", project}).code == 0);
    Run built = cli({"index", project, "--layer", "classifier.fc1"});
    INFO(built.err.toStdString());
    REQUIRE(built.code == 0);
    CHECK(built.out.contains("2000 images, 128-d fc descriptors of classifier.fc1, exact search"));

    // Query #0 (an ankle boot; not itself among the results), 10 neighbours, mostly ankle boots.
    Run exact = cli({"search", project, testSet() + "#0", "-k", "10", "--json"});
    REQUIRE(exact.code == 0);
    const QJsonArray hits = results(exact.out);
    REQUIRE(hits.size() == 10);
    int same = 0;
    double previous = -1;
    std::set<qint64> exactIds;
    for (const auto &h : hits) {
        const QJsonObject o = h.toObject();
        CHECK(o["image"].toInteger() != 0);
        CHECK(o["distance"].toDouble() >= previous);
        previous = o["distance"].toDouble();
        same += o["class"].toString() == "Ankle boot" ? 1 : 0;
        exactIds.insert(o["image"].toInteger());
    }
    CHECK(same >= 8);

    // HNSW agrees with exact search on most neighbours; IVF-PQ builds and answers too.
    REQUIRE(cli({"index", project, "--layer", "classifier.fc1", "--ann", "hnsw", "--name", "fast"}).code == 0);
    Run approx = cli({"search", project, testSet() + "#0", "-k", "10", "--json", "--index", "fast"});
    REQUIRE(approx.code == 0);
    int agree = 0;
    for (const auto &h : results(approx.out))
        agree += exactIds.count(h.toObject()["image"].toInteger()) ? 1 : 0;
    CHECK(agree >= 9);
    REQUIRE(cli({"index", project, "--layer", "classifier.fc1", "--ann", "ivfpq", "--pca", "64", "--name", "pq"}).code == 0);
    CHECK(results(cli({"search", project, testSet() + "#0", "-k", "5", "--json", "--index", "pq"}).out).size() == 5);

    // A conv-map descriptor (MAC) explains each result by channels; a region of the query works too.
    REQUIRE(cli({"index", project, "--layer", "features", "--descriptor", "mac", "--name", "mac"}).code == 0);
    Run why = cli({"search", project, testSet() + "#0", "-k", "3", "--json", "--why", "--index", "mac"});
    REQUIRE(why.code == 0);
    for (const auto &h : results(why.out)) {
        const QJsonArray channels = h.toObject()["why"].toArray();
        REQUIRE(channels.size() == 3);
        CHECK(channels[0].toObject()["share"].toDouble() >= channels[1].toObject()["share"].toDouble());
        CHECK(channels[0].toObject()["channel"].toInt() < 128);
    }
    Run region = cli({"search", project, testSet() + "#0", "--region", "0,10,28,18", "-k", "5"});
    REQUIRE(region.code == 0);
    CHECK(region.out.contains("region 0,10,28,18"));
    CHECK(cli({"search", project, testSet() + "#0", "--region", "20,20,30,30"}).code == 2);
    CHECK(cli({"search", project, testSet() + "#0", "--index", "nope"}).code == 2);
    CHECK(cli({"index", project, "--layer", "features", "--descriptor", "fc"}).code == 2);
    CHECK(cli({"index", project, "--layer", "classifier.fc1", "--metric", "l1", "--ann", "hnsw"}).code == 2);
    CHECK(cli({"search", dir.filePath("empty"), testSet() + "#0"}).code == 6);

    // New images join an index without rebuilding it; unreadable ones are listed and skipped.
    const QString photo = fixture("photos64/astronaut_centre.png");
    QFile text(dir.filePath("notes.jpg"));
    REQUIRE(text.open(QIODevice::WriteOnly));
    text.write("not an image");
    text.close();
    Run add = cli({"index", project, "--add", "--name", "classifier.fc1-fc-128", photo, text.fileName()});
    CHECK(add.code == 1);
    CHECK(add.out.contains("added 1 images, 2001 in all"));
    CHECK(add.err.contains("notes.jpg"));
    Run found = cli({"search", project, photo, "-k", "1", "--json", "--index", "classifier.fc1-fc-128"});
    REQUIRE(found.code == 0);
    const QJsonObject first = results(found.out)[0].toObject();
    CHECK(first["name"].toString().endsWith("astronaut_centre.png"));
    CHECK(first["distance"].toDouble() < 1e-4);
}

TEST_CASE("cli eval-retrieval prints the layer x descriptor x PCA table", "[cli][search]")
{
    QTemporaryDir dir;
    const QString project = dir.filePath("p");
    REQUIRE(cli({"scan", demo(), testSet(), "--limit", "2000", "--quiet", "--project", project}).code == 0);
    Run r = cli({"eval-retrieval", project, "--queries", "300", "--csv", dir.filePath("t.csv")});
    INFO(r.err.toStdString());
    REQUIRE(r.code == 0);
    CHECK(r.out.startsWith("layer"));
    QFile f(dir.filePath("t.csv"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    QTextStream s(&f);
    CHECK(s.readLine() == "layer,descriptor,pca,dims,map,precision_at_10,queries");
    std::map<QString, double> map; // "layer descriptor pca" -> mAP
    int rows = 0;
    while (!s.atEnd()) {
        const QStringList c = s.readLine().split(',');
        REQUIRE(c.size() == 7);
        const double m = c[4].toDouble(), p10 = c[5].toDouble();
        CHECK((m > 0.1 && m <= 1.0));
        CHECK((p10 > 0.1 && p10 <= 1.0));
        CHECK(c[6] == "300");
        map[c[0] + " " + c[1] + " " + c[2]] = m;
        ++rows;
    }
    // Default features: the last map (spoc, mac) and the two hidden fully connected layers, × PCA 0/32/128.
    CHECK(rows == 4 * 3);
    // On the demo, the fully connected codes retrieve the same class better than the pooled conv map.
    CHECK(map["classifier.fc2 fc 128"] > map["features spoc 128"]);
    CHECK(cli({"eval-retrieval", project, "--layers", "features.conv1"}).code == 2);
}
