// The map frame: far-flung points do not shrink the rest; an ordinary cloud keeps all its points in the frame.
#include "map/MapExtent.h"

#include <catch2/catch.hpp>

#include <random>

using namespace convscope;

TEST_CASE("map frame ignores a few far-flung points and keeps an ordinary cloud whole", "[map]")
{
    std::mt19937 random(3);
    std::normal_distribution<double> normal(0, 1);
    std::vector<double> x, y;
    for (int i = 0; i < 10000; ++i) {
        x.push_back(normal(random));
        y.push_back(normal(random));
    }
    const auto [minX, maxX] = std::minmax_element(x.begin(), x.end());
    const MapExtent whole = MapExtent::of(x, y);
    // Gaussian tails: the 0.2% quantiles (±2.9σ) widened by 5% of the span reach about ±3.2σ — near the extremes.
    CHECK(whole.left <= -3.0);
    CHECK(whole.right >= 3.0);
    CHECK(whole.left >= *minX);
    CHECK(whole.right <= *maxX);

    // Two points flung 100σ away (as UMAP does with tiny disconnected components).
    x.push_back(100), y.push_back(-100);
    x.push_back(120), y.push_back(90);
    const MapExtent framed = MapExtent::of(x, y);
    CHECK(framed.width() < 8);
    CHECK(framed.height() < 8);
    CHECK(framed.left == Approx(whole.left).margin(0.05));

    // Tiny and degenerate inputs.
    const MapExtent one = MapExtent::of({2.0}, {3.0});
    CHECK(one.left == 2.0);
    CHECK(one.width() == 0.0);
    const MapExtent none = MapExtent::of({}, {});
    CHECK(none.width() == 1.0);
}
