// "DATASET#INDEX" parsing (what ImageReference::load and the fuzz target share).
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/DatasetReference.h"

using namespace convscope;

TEST_CASE("dataset references: DATASET#INDEX splits at the last '#'", "[data][reference]")
{
    const auto r = DatasetReference::parse("/data/t10k-images-idx3-ubyte.gz#42");
    REQUIRE(r);
    CHECK(r->dataset == "/data/t10k-images-idx3-ubyte.gz");
    CHECK(r->index == 42);
    CHECK(r->text() == "/data/t10k-images-idx3-ubyte.gz#42");
    CHECK(DatasetReference::parse("photos/#3")->dataset == "photos/");
    CHECK(DatasetReference::parse("a#b#7")->dataset == "a#b");
    CHECK(DatasetReference::parse("x#007")->index == 7);
    CHECK(DatasetReference::parse("x#999999999999999999")->index == 999999999999999999);
    CHECK_FALSE(DatasetReference::parse("cat.jpg"));
}

TEST_CASE("dataset references: anything but a whole number after '#' is a UsageError (fuzz regressions)",
          "[data][reference][errors]")
{
    const std::vector<std::string> bad = {"x#",     "#5",     "x#-1",   "x#+1",
                                          "x# 1",   "x#1 ",   "x#1e3",  "x#0x10",
                                          "x#9999999999999999999", "x#18446744073709551616", std::string("x#1\0", 4)};
    for (const std::string &b : bad)
        CHECK_THROWS_AS(DatasetReference::parse(b), UsageError);
    CHECK_THROWS_WITH(DatasetReference::parse("x#y"), Catch::Contains("'x#y'") && Catch::Contains("whole number"));
}
