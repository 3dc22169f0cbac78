// FftRepulsion (FIt-SNE style interpolated repulsion) against exact O(N²) sums, thread-count independence,
// translation invariance and edge cases.
#include "CatchTorch.h"

#include "common/Error.h"
#include "map/FftRepulsion.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using convscope::FftRepulsion;

namespace {

struct Exact {
    std::vector<double> force;
    double z = 0;
};

Exact exactRepulsion(const std::vector<double> &y)
{
    const std::int64_t n = static_cast<std::int64_t>(y.size() / 2);
    Exact e;
    e.force.assign(y.size(), 0.0);
    std::vector<double> zs(static_cast<std::size_t>(n), 0.0);
    at::parallel_for(0, n, 16, [&](std::int64_t from, std::int64_t to) {
        for (std::int64_t i = from; i < to; ++i) {
            double fx = 0, fy = 0, z = 0;
            for (std::int64_t j = 0; j < n; ++j) {
                if (j == i)
                    continue;
                const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                const double q = 1.0 / (1.0 + dx * dx + dy * dy);
                z += q;
                fx += q * q * dx;
                fy += q * q * dy;
            }
            e.force[2 * i] = fx, e.force[2 * i + 1] = fy, zs[i] = z;
        }
    });
    for (const double z : zs)
        e.z += z;
    return e;
}

/// `n` points in `clusters` Gaussian blobs (standard deviation `sigma`) with centres uniform in ±`extent`.
std::vector<double> clusteredMap(std::uint32_t seed, int n, int clusters, double extent, double sigma)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> centre(-extent, extent);
    std::normal_distribution<double> noise(0.0, sigma);
    std::vector<double> centres;
    for (int c = 0; c < clusters; ++c)
        centres.push_back(centre(rng)), centres.push_back(centre(rng));
    std::vector<double> y;
    for (int i = 0; i < n; ++i) {
        const int c = i % clusters;
        y.push_back(centres[2 * c] + noise(rng));
        y.push_back(centres[2 * c + 1] + noise(rng));
    }
    return y;
}

double forceError(const std::vector<double> &f, const std::vector<double> &reference)
{
    double diff = 0, norm = 0;
    for (std::size_t k = 0; k < f.size(); ++k) {
        diff += (f[k] - reference[k]) * (f[k] - reference[k]);
        norm += reference[k] * reference[k];
    }
    return std::sqrt(diff / norm);
}

struct Accuracy {
    double z = 0;     ///< relative error of Z
    double force = 0; ///< ‖F − F_exact‖ / ‖F_exact‖
};

Accuracy accuracy(const std::vector<double> &y, FftRepulsion::Options options = {})
{
    FftRepulsion fft(options);
    std::vector<double> force;
    const double z = fft.compute(y, force);
    const Exact exact = exactRepulsion(y);
    REQUIRE(force.size() == y.size());
    return {std::abs(z - exact.z) / exact.z, forceError(force, exact.force)};
}

/// Restores the intra-op thread count at the end of a test.
struct ThreadCountGuard {
    int saved = at::get_num_threads();
    ~ThreadCountGuard() { at::set_num_threads(saved); }
};

FftRepulsion::Options fivePoints()
{
    FftRepulsion::Options options;
    options.interpolationPoints = 5;
    return options;
}

} // namespace

// Bounds: about three times the errors measured (defaults: p = 3, one box per unit, as FIt-SNE and openTSNE).
// The force error is the larger one: dense clusters put many neighbours within one box, where the quadratic
// interpolation of K(d) = 1 / (1 + d²)² is coarsest.

TEST_CASE("FFT repulsion matches the exact sums on a map of clusters", "[map][tsne]")
{
    const std::vector<double> y = clusteredMap(1, 3000, 12, 30, 2.0);
    const Accuracy a = accuracy(y), fine = accuracy(y, fivePoints());
    INFO("relative Z error " << a.z << ", relative force error " << a.force);
    INFO("with 5 points per box: " << fine.z << ", " << fine.force);
    CHECK(a.z < 3e-3);
    CHECK(a.force < 5e-2);
    CHECK(fine.z < 1e-5);
    CHECK(fine.force < 3e-3);
}

TEST_CASE("FFT repulsion matches the exact sums on one broad cluster", "[map][tsne]")
{
    const std::vector<double> y = clusteredMap(2, 3000, 1, 0, 8.0);
    const Accuracy a = accuracy(y), fine = accuracy(y, fivePoints());
    INFO("relative Z error " << a.z << ", relative force error " << a.force);
    INFO("with 5 points per box: " << fine.z << ", " << fine.force);
    CHECK(a.z < 3e-3);
    CHECK(a.force < 5e-2);
    CHECK(fine.z < 1e-5);
    CHECK(fine.force < 3e-3);
}

TEST_CASE("FFT repulsion matches the exact sums on a map smaller than one unit", "[map][tsne]")
{
    // Early t-SNE iterations: the whole map spans a fraction of a unit and the minimum grid resolution applies.
    const Accuracy a = accuracy(clusteredMap(3, 2000, 3, 0.3, 0.05));
    INFO("relative Z error " << a.z << ", relative force error " << a.force);
    CHECK(a.z < 1e-8);
    CHECK(a.force < 1e-6);
}

TEST_CASE("FFT repulsion grows more accurate with more interpolation points", "[map][tsne]")
{
    const std::vector<double> y = clusteredMap(4, 2000, 8, 25, 1.5);
    FftRepulsion::Options coarse;
    coarse.interpolationPoints = 2;
    FftRepulsion::Options fine;
    fine.interpolationPoints = 5;
    const Accuracy c = accuracy(y, coarse), d = accuracy(y, {}), f = accuracy(y, fine);
    INFO("force errors p=2: " << c.force << ", p=3: " << d.force << ", p=5: " << f.force);
    CHECK(f.force < d.force);
    CHECK(d.force < c.force);
    CHECK(f.z < 1e-4);
}

TEST_CASE("FFT repulsion gives bit-identical results for one and two threads", "[map][tsne]")
{
    ThreadCountGuard guard;
    // Enough points for several summation chunks and spreading strips.
    const std::vector<double> y = clusteredMap(5, 60000, 20, 40, 3.0);
    std::vector<double> f1, f2, f2again;
    at::set_num_threads(1);
    const double z1 = FftRepulsion().compute(y, f1);
    at::set_num_threads(2);
    FftRepulsion twoThreads;
    const double z2 = twoThreads.compute(y, f2);
    const double z2again = twoThreads.compute(y, f2again); // cached plans and buffers
    CHECK(z1 == z2);
    CHECK(z2 == z2again);
    CHECK(f1 == f2);
    CHECK(f2 == f2again);
}

TEST_CASE("FFT repulsion does not depend on where the map lies", "[map][tsne]")
{
    const std::vector<double> y = clusteredMap(6, 3000, 10, 30, 2.0);
    std::vector<double> moved = y;
    for (std::size_t k = 0; k < moved.size(); ++k)
        moved[k] += k % 2 ? -1000.0 : 1000.0;
    FftRepulsion fft;
    std::vector<double> f, fMoved;
    const double z = fft.compute(y, f);
    const double zMoved = fft.compute(moved, fMoved);
    INFO("Z " << z << " moved " << zMoved << ", force difference " << forceError(fMoved, f));
    CHECK(std::abs(zMoved - z) < 1e-9 * z);
    CHECK(forceError(fMoved, f) < 1e-9);
    const Exact exact = exactRepulsion(moved);
    CHECK(std::abs(zMoved - exact.z) < 3e-3 * exact.z);
    CHECK(forceError(fMoved, exact.force) < 5e-2);
}

TEST_CASE("FFT repulsion handles tiny and degenerate maps", "[map][tsne]")
{
    FftRepulsion fft;
    std::vector<double> force{1, 2, 3};
    CHECK(fft.compute({}, force) == 0.0);
    CHECK(force.empty());
    CHECK(fft.compute({4.0, 5.0}, force) == 0.0);
    CHECK(force == std::vector<double>{0.0, 0.0});

    // Two points one unit apart (on the default 50 × 50 box grid): q = 1/2, Z = 2q = 1, F = ±q² along the line.
    const double z = fft.compute({0.0, 0.0, 1.0, 0.0}, force);
    CHECK(z == Approx(1.0).epsilon(1e-5));
    CHECK(force[0] == Approx(-0.25).epsilon(1e-5));
    CHECK(force[2] == Approx(0.25).epsilon(1e-5));
    CHECK(std::abs(force[1]) < 1e-9);
    CHECK(std::abs(force[3]) < 1e-9);

    // All points in one place: no force, q = 1 for every pair.
    const std::vector<double> same(2 * 50, 3.0);
    CHECK(fft.compute(same, force) == Approx(50.0 * 49.0).epsilon(1e-6));
    for (const double f : force)
        CHECK(std::abs(f) < 1e-9);
}

TEST_CASE("FFT repulsion rejects bad positions and options", "[map][tsne]")
{
    FftRepulsion fft;
    std::vector<double> force;
    CHECK_THROWS_AS(fft.compute({1.0, 2.0, 3.0}, force), convscope::UsageError);
    CHECK_THROWS_AS(fft.compute({0.0, 0.0, std::numeric_limits<double>::quiet_NaN(), 1.0}, force),
                    convscope::UsageError);
    CHECK_THROWS_AS(fft.compute({0.0, 0.0, std::numeric_limits<double>::infinity(), 1.0}, force),
                    convscope::UsageError);
    FftRepulsion::Options bad;
    bad.interpolationPoints = 0;
    CHECK_THROWS_AS(FftRepulsion(bad), convscope::UsageError);
    bad = {};
    bad.maxIntervals = bad.minIntervals - 1;
    CHECK_THROWS_AS(FftRepulsion(bad), convscope::UsageError);
    bad = {};
    bad.intervalsPerUnit = 0;
    CHECK_THROWS_AS(FftRepulsion(bad), convscope::UsageError);
}
