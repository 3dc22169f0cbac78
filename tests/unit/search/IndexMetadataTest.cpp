// An index's meta.json read back (what DescriptorIndex::open/list and the fuzz target share): what save() writes
// round-trips; damaged files give a DataError (an unknown descriptor was a UsageError, a name with '/' left the
// project folder).
#include "CatchTorch.h"

#include "common/Error.h"
#include "search/IndexMetadata.h"

using namespace convscope;

TEST_CASE("index metadata: written and read back", "[search]")
{
    IndexMetadata m;
    m.name = "classifier.fc2-fc-128";
    m.layer = "classifier.fc2";
    m.pooling = FeaturePooling::Max;
    m.scan = 3;
    m.features = "/p/scan-3/classifier.fc2.npy";
    m.metric = "cosine";
    m.kind = "hnsw";
    m.size = 10000;
    m.dims = 128;
    m.created = "2026-11-29T10:00:00.000Z";
    m.added = {"/photos/cat.jpg"};
    const IndexMetadata r = IndexMetadata::parse(m.toJson(), "meta.json");
    CHECK(r.name == m.name);
    CHECK(r.pooling == FeaturePooling::Max);
    CHECK(r.scan == 3);
    CHECK(r.added == m.added);
    CHECK(r.size == 10000);
    const char *minimal = R"({"name":"n","layer":"l","descriptor":"spoc","scan":1,"features":"f"})";
    CHECK(IndexMetadata::parse(minimal, "m").size == 0);
}

TEST_CASE("index metadata: damaged files give a DataError (fuzz regressions)", "[search][errors]")
{
    for (const char *bad :
         {"", "[]", "{", R"({"layer":"l","descriptor":"fc","scan":1,"features":"f"})",
          R"({"name":"../../x","layer":"l","descriptor":"fc","scan":1,"features":"f"})",
          R"({"name":"..","layer":"l","descriptor":"fc","scan":1,"features":"f"})",
          R"({"name":"n","layer":"","descriptor":"fc","scan":1,"features":"f"})",
          R"({"name":"n","layer":"l","descriptor":"gem","scan":1,"features":"f"})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":0,"features":"f"})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":1.5,"features":"f"})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":1e300,"features":"f"})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":1})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":1,"features":"f","added":"x"})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":1,"features":"f","added":[1]})",
          R"({"name":"n","layer":"l","descriptor":"fc","scan":1,"features":"f","size":-1})"})
        CHECK_THROWS_AS(IndexMetadata::parse(bad, "meta.json"), DataError);
    CHECK_THROWS_WITH(IndexMetadata::parse(R"({"name":"n","layer":"l","descriptor":"gem","scan":1,"features":"f"})",
                                           "/p/index-n/meta.json"),
                      Catch::Contains("/p/index-n/meta.json") && Catch::Contains("unknown descriptor 'gem'"));
}
