// Grid layout of a map: one image per cell, neighbours stay near.
#include "CatchTorch.h"

#include "common/Error.h"
#include "map/MapGrid.h"
#include "map/Tsne.h"
#include "MapTestData.h"

#include <set>

using namespace convscope;
using namespace maptest;

TEST_CASE("grid layout: one image per cell, neighbours stay near", "[map]")
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
    const torch::Tensor coords = torch::randn({1000, 2}, gen);
    const torch::Tensor grid = MapGrid::snap(coords);
    std::set<std::pair<int, int>> cells;
    for (std::int64_t i = 0; i < 1000; ++i) {
        const int c = static_cast<int>(grid[i][0].item<float>()), r = static_cast<int>(grid[i][1].item<float>());
        CHECK((c >= 0 && c < 32 && r >= 0 && r < 32)); // ⌈√1000⌉ = 32
        cells.insert({c, r});
    }
    CHECK(cells.size() == 1000);
    // Rows follow y: the grid's row correlates with the original y, the column with x.
    const torch::Tensor y = coords.select(1, 1), row = grid.select(1, 1);
    const double corr = ((y - y.mean()) * (row - row.mean())).sum().item<double>() /
                        std::sqrt(((y - y.mean()).pow(2).sum() * (row - row.mean()).pow(2).sum()).item<double>());
    CHECK(corr > 0.9);
}
