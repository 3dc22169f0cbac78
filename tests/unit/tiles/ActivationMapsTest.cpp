// Activation maps as tiles: one per channel, sorted by strength.
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

TEST_CASE("activation maps: one tile per channel, sorted by strength", "[tiles][activations]")
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
