// Filter weights as tiles: one per filter, modes and scaling, colour for RGB first layers.
#include "CatchTorch.h"

#include "tiles/ActivationMaps.h"
#include "common/Error.h"
#include "tiles/FilterWeights.h"
#include "model/Model.h"
#include "TestPaths.h"
#include "render/TileGridRenderer.h"

#include <QFile>
#include <QImage>
#include <QTemporaryDir>

#include <set>

using namespace convscope;

TEST_CASE("filter tiles: one per filter, modes and scaling", "[tiles][filters]")
{
    auto model = Model::load(testpaths::demoModel());
    TileSet first = FilterWeights::tiles(*model, model->layer("conv 1"), {});
    CHECK(first.count() == 32);
    CHECK(first.kind == TileValues::Signed); // one input channel: signed weights
    CHECK(first.values.abs().amax({1, 2, 3}).min().item<float>() == Approx(1.0f));
    TileSet norm = FilterWeights::tiles(*model, model->layer("conv 3"), {});
    CHECK(norm.count() == 64);
    CHECK(norm.kind == TileValues::Unsigned);
    FilterWeights::Options slices;
    slices.mode = FilterWeights::Mode::Slices;
    slices.maxSlicesChannels = 8;
    TileSet s = FilterWeights::tiles(*model, model->layer("conv 3"), slices);
    CHECK(s.count() == 64 * 8);
    CHECK(s.columns == 8);
    CHECK_THROWS_AS(FilterWeights::tiles(*model, model->layer("fc1"), {}), UsageError);
    FilterWeights::Options colour;
    colour.mode = FilterWeights::Mode::Color;
    CHECK_THROWS_AS(FilterWeights::tiles(*model, model->layer("conv 2"), colour), UsageError);
}

TEST_CASE("colour filters for RGB first layers", "[tiles][filters]")
{
    auto model = Model::load(testpaths::fixtures() + "/alexnet.scripted.pt");
    TileSet t = FilterWeights::tiles(*model, model->layer("features.0"), {});
    CHECK(t.kind == TileValues::Color);
    CHECK(t.count() == 64);
    CHECK(t.values.size(1) == 3);
    CHECK(t.values.min().item<float>() >= 0.0f);
    CHECK(t.values.max().item<float>() <= 1.0f);
}

TEST_CASE("a BGR model's first filters are shown in RGB: the same tiles as its RGB twin's", "[tiles][filters][inputspec]")
{
    // resnet18_bgr's conv1 is resnet18's with its input planes reversed (tests/fixtures/make_models.py).
    auto rgb = Model::load(testpaths::fixtures() + "/resnet18.scripted.pt",
                           Model::Options{testpaths::fixtures() + "/photos64.json"});
    auto bgr = Model::load(testpaths::fixtures() + "/resnet18_bgr.scripted.pt",
                           Model::Options{testpaths::fixtures() + "/photos64_bgr.json"});
    const TileSet a = FilterWeights::tiles(*rgb, rgb->layer("conv1"), {});
    const TileSet b = FilterWeights::tiles(*bgr, bgr->layer("conv1"), {});
    REQUIRE(b.kind == TileValues::Color);
    CHECK(torch::allclose(b.values, a.values));
    CHECK_FALSE(torch::allclose(b.values.flip(1), a.values));
    CHECK(b.title.find("BGR") != std::string::npos);
    // Slices keep the model's own plane order (their captions number the input channels).
    FilterWeights::Options slices;
    slices.mode = FilterWeights::Mode::Slices;
    CHECK(torch::equal(FilterWeights::tiles(*bgr, bgr->layer("conv1"), slices).raw,
                       FilterWeights::tiles(*rgb, rgb->layer("conv1"), slices).raw.view({64, 3, 7, 7}).flip(1).reshape({192, 1, 7, 7})));
}
