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
