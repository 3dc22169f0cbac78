// A scan's layout read back from the catalogue's JSON columns (what ProjectStore::scan and the fuzz target share):
// what ProjectStore writes parses; damaged columns give a DataError instead of an index past the channel counts or a
// huge allocation in topOfLayer.
#include "CatchTorch.h"

#include "common/Error.h"
#include "scan/ScanLayout.h"

using namespace convscope;

TEST_CASE("scan layout: the columns ProjectStore writes", "[scan][store]")
{
    const ScanLayout l = ScanLayout::parse(
        R"({"channels":[32,64],"layers":["features.conv1","layer1.0.relu#2"]})",
        R"([{"dims":128,"layer":"features","name":"features:avg"},{"dims":256,"layer":"fc1","name":"fc1"}])", "/p");
    CHECK(l.layers == std::vector<std::string>{"features.conv1", "layer1.0.relu#2"});
    CHECK(l.channels == std::vector<std::int64_t>{32, 64});
    REQUIRE(l.features.size() == 2);
    CHECK(l.features[1].name == "fc1");
    CHECK(l.features[1].dims == 256);
    CHECK(ScanLayout::parse(R"({"layers":[],"channels":[]})", "[]", "/p").layers.empty());
}

TEST_CASE("scan layout: damaged columns give a DataError (fuzz regressions)", "[scan][store][errors]")
{
    const char *features = "[]";
    for (const char *layers : {"", "[]", "{", R"({"layers":["a","b"],"channels":[3]})", R"({"layers":["a"]})",
                               R"({"layers":["a"],"channels":[0]})", R"({"layers":["a"],"channels":[-3]})",
                               R"({"layers":["a"],"channels":[2.5]})", R"({"layers":["a"],"channels":[1e300]})",
                               R"({"layers":["a"],"channels":[16777217]})", R"({"layers":[""],"channels":[3]})",
                               R"({"layers":[7],"channels":[3]})", R"({"layers":["a"],"channels":["3"]})"})
        CHECK_THROWS_AS(ScanLayout::parse(layers, features, "/p"), DataError);
    const char *layers = R"({"layers":["a"],"channels":[3]})";
    for (const char *bad : {"", "{}", "[1]", R"([{"name":"a","layer":"a"}])", R"([{"name":"a","layer":"a","dims":0}])",
                            R"([{"name":"","layer":"a","dims":3}])", R"([{"name":"a","layer":"a","dims":268435457}])"})
        CHECK_THROWS_AS(ScanLayout::parse(layers, bad, "/p"), DataError);
    CHECK_THROWS_WITH(ScanLayout::parse(R"({"layers":["a","b"],"channels":[3]})", features, "/p"),
                      Catch::Contains("catalogue in '/p' is damaged") && Catch::Contains("2 layers but 1"));
}
