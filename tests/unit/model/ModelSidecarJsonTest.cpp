// The sidecar JSON parsed from memory (what ModelSidecar::load and the fuzz target share): every field checked,
// and a labels file that is not a regular file (a FIFO would block for ever) refused.
#include "CatchTorch.h"

#include "common/Error.h"
#include "model/ModelSidecarJson.h"
#include "TestPaths.h"

#include <QFile>
#include <QTemporaryDir>

#include <sys/stat.h>

using namespace convscope;

namespace {
ModelSidecar parse(const char *json, int channels = 3, const std::string &path = "/nonexistent/model.json")
{
    return ModelSidecarJson::parse(QByteArray(json), channels, path);
}
} // namespace

TEST_CASE("sidecar JSON: the demo sidecar and a labels file", "[model][sidecar]")
{
    QFile f(QString::fromStdString(testpaths::source() + "/resources/demo/fashion_cnn.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    const ModelSidecar demo = ModelSidecarJson::parse(f.readAll(), 1, "fashion_cnn.json");
    CHECK(demo.input.width == 28);
    CHECK(demo.labels.size() == 10);
    CHECK(demo.layerNames.at("classifier.fc2") == "fc 2");
    QTemporaryDir dir;
    QFile labels(dir.filePath("labels.txt"));
    REQUIRE(labels.open(QIODevice::WriteOnly));
    labels.write("cat\r\n\n dog \n");
    labels.close();
    const ModelSidecar s = parse(R"({"labels_file": "labels.txt", "input": {"mean": 0.5, "std": 0.25}})", 3,
                                 dir.filePath("m.json").toStdString());
    CHECK(s.labels == std::vector<std::string>{"cat", "dog"});
    CHECK(s.input.mean == std::vector<float>{0.5f, 0.5f, 0.5f});
    CHECK(s.input.order == ChannelOrder::Rgb);
    CHECK(parse(R"({"input": {"channel_order": "BGR"}})").input.order == ChannelOrder::Bgr);
    CHECK(parse(R"({"input": {"channel_order": "rgb"}})").input.order == ChannelOrder::Rgb);
    CHECK(parse(R"({"input": {"channel_order": "bgr"}})", 1).input.order == ChannelOrder::Rgb); // one plane: no order
    // Without its own mean and std, a BGR sidecar takes the default ones in its planes' order (blue first).
    const InputSpec bgr = parse(R"({"input": {"channel_order": "bgr"}})").input;
    CHECK(bgr.mean == std::vector<float>{0.406f, 0.456f, 0.485f});
    CHECK(bgr.std == std::vector<float>{0.225f, 0.224f, 0.229f});
    CHECK(parse(R"({"input": {"channel_order": "bgr", "mean": [1, 2, 3]}})").input.mean ==
          std::vector<float>{1, 2, 3}); // given: as written
}

TEST_CASE("sidecar JSON: wrong types and values give a DataError naming the field (fuzz regressions)",
          "[model][sidecar][errors]")
{
    for (const char *bad : {"[1]", "{", R"({"name": 3})", R"({"labels": "cat"})", R"({"labels": ["cat", 1]})",
                            R"({"layer_names": ["conv1"]})", R"({"layer_names": {"conv1": 2}})", R"({"dataset": 1})",
                            R"({"input": []})", R"({"input": {"width": 0}})", R"({"input": {"width": 16385}})",
                            R"({"input": {"channels": 2}})", R"({"input": {"mean": [1, 2]}})",
                            R"({"input": {"std": [0]}})", R"({"input": {"std": "x"}})", R"({"input": {"range": -1}})",
                            R"({"input": {"resize": "zoom"}})", R"({"input": {"mean": 1e39}})",
                            R"({"labels_file": 5})", R"({"input": {"channel_order": "brg"}})",
                            R"({"input": {"channel_order": 1}})"})
        CHECK_THROWS_AS(parse(bad), DataError);
    CHECK_THROWS_WITH(parse(R"({"input": {"std": [0, 1, 1]}})"), Catch::Contains("'input.std'"));
    CHECK_THROWS_AS(parse(QByteArray(int(ModelSidecarJson::kMaxBytes) + 1, ' ').constData()), DataError);
}

TEST_CASE("sidecar JSON: a labels file that is missing or not a regular file is an IoError",
          "[model][sidecar][errors]")
{
    // A FIFO: the old reader blocked for ever in open() (no writer ever comes).
    QTemporaryDir dir;
    const std::string fifo = dir.filePath("labels.fifo").toStdString();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(parse(("{\"labels_file\": \"" + fifo + "\"}").c_str()), Catch::Contains("not a regular file"));
    CHECK_THROWS_WITH(parse(R"({"labels_file": "/dev/zero"})"), Catch::Contains("not a regular file"));
    CHECK_THROWS_AS(parse(R"({"labels_file": "missing.txt"})"), IoError);
    CHECK_THROWS_AS(parse(R"({"labels_file": "/"})"), IoError);
}
