// t-SNE: the Barnes-Hut gradient approximates the exact one, the optimisation lowers the KL divergence, separates
// clusters (10-NN accuracy in the map) and is reproducible.
#include "CatchTorch.h"

#include "common/Error.h"
#include "map/MapGrid.h"
#include "map/Tsne.h"
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
