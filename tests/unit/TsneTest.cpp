// t-SNE: the Barnes-Hut gradient approximates the exact one, the optimisation lowers the KL divergence, separates
// clusters (10-NN accuracy in the map) and is reproducible.
#include "CatchTorch.h"

#include "Error.h"
#include "MapGrid.h"
#include "Tsne.h"
#include "MapTestData.h"

#include <set>

using namespace convscope;
using namespace maptest;


TEST_CASE("t-SNE separates clusters, lowers KL, and Barnes-Hut and FFT follow the exact gradient", "[map]")
{
    std::vector<int> labels;
    const torch::Tensor x = blobs(1200, 20, 6, labels);
    Tsne::Options o;
    o.repulsion = Tsne::Repulsion::BarnesHut;
    o.iterations = 500;
    Tsne t(x, o);
    t.run(260); // past early exaggeration
    const double before = t.klDivergence();
    // Barnes-Hut (θ = 0.5) and FFT interpolation against all pairs, at the same positions.
    const auto exact = t.gradient(Tsne::Repulsion::Exact);
    for (const auto method : {Tsne::Repulsion::BarnesHut, Tsne::Repulsion::Fft}) {
        const auto approx = t.gradient(method);
        double diff = 0, norm = 0;
        for (size_t i = 0; i < exact.size(); ++i)
            diff += (exact[i] - approx[i]) * (exact[i] - approx[i]), norm += exact[i] * exact[i];
        CHECK(std::sqrt(diff / norm) < 0.05);
    }
    t.run(240);
    REQUIRE(t.done());
    CHECK(t.klDivergence() < before);
    const torch::Tensor y = t.embedding();
    CHECK(knnAccuracy(y, labels) > 0.97);
    // Reproducible.
    Tsne again(x, o);
    again.run(500);
    CHECK(torch::equal(again.embedding(), y));
    CHECK_THROWS_AS(Tsne(torch::zeros({3, 5}), o), UsageError);
}

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
