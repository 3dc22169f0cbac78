// Filter and activation tiles, and their rendering to PNG and SVG.
#include "CatchTorch.h"

#include "ActivationMaps.h"
#include "Error.h"
#include "FilterWeights.h"
#include "Model.h"
#include "TestPaths.h"
#include "TileGridRenderer.h"

#include <QFile>
#include <QImage>
#include <QTemporaryDir>

#include <set>

using namespace convscope;

TEST_CASE("filter tiles: one per filter, modes and scaling", "[filters]")
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

TEST_CASE("colour filters for RGB first layers", "[filters]")
{
    auto model = Model::load(testpaths::fixtures() + "/alexnet.scripted.pt");
    TileSet t = FilterWeights::tiles(*model, model->layer("features.0"), {});
    CHECK(t.kind == TileValues::Color);
    CHECK(t.count() == 64);
    CHECK(t.values.size(1) == 3);
    CHECK(t.values.min().item<float>() >= 0.0f);
    CHECK(t.values.max().item<float>() <= 1.0f);
}

TEST_CASE("activation maps: one tile per channel, sorted by strength", "[activations]")
{
    torch::Tensor a = torch::zeros({1, 3, 4, 4});
    a[0][1].fill_(2.0);
    a[0][2][0][0] = 1.0;
    ActivationMaps::Options o;
    o.order = ActivationMaps::Order::Strength;
    TileSet t = ActivationMaps::tiles(a, o);
    REQUIRE(t.count() == 3);
    CHECK(t.captions[0] == "1");
    CHECK(t.captions[1] == "2");
    CHECK(t.kind == TileValues::Unsigned);
    CHECK(t.values[0].max().item<float>() == 1.0f);
    CHECK(ActivationMaps::tiles(-a, {}).kind == TileValues::Signed);
}

TEST_CASE("grids render to PNG and SVG at the requested width", "[render]")
{
    auto model = Model::load(testpaths::demoModel());
    TileSet tiles = FilterWeights::tiles(*model, model->layer("conv 2"), {});
    QTemporaryDir dir;
    TileGridRenderer::Options o;
    o.width = 800;
    TileGridRenderer r(o);
    const QString png = dir.filePath("g.png"), svg = dir.filePath("g.svg");
    r.write(tiles, png);
    QImage img(png);
    REQUIRE(!img.isNull());
    CHECK(img.width() == 800);
    // Not blank: many distinct colours.
    std::set<QRgb> colours;
    for (int y = 0; y < img.height(); y += 3)
        for (int x = 0; x < img.width(); x += 3)
            colours.insert(img.pixel(x, y));
    CHECK(colours.size() > 50);
    r.write(tiles, svg);
    QFile f(svg);
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    CHECK(text.contains("<svg"));
    CHECK(text.contains("viewBox=\"0 0 800"));
    CHECK(text.count("<image") == 64);
    CHECK_THROWS_AS(r.write(tiles, dir.filePath("g.xyz")), UsageError);
    CHECK_THROWS_AS(r.write(tiles, "/nonexistent/dir/g.png"), IoError);
}
