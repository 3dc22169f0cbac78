// Tile grids rendered to PNG and SVG at the requested width.
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
