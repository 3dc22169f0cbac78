#include "map/FftRepulsion.h"

#include "common/Error.h"

#include <ATen/Parallel.h>
#include <fftw3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

namespace convscope {

namespace {

// FFTW's planner (and plan destruction) share global state: every object, in whatever thread, plans under this lock.
// Executing a finished plan is thread-safe and needs no lock.
std::mutex &plannerMutex()
{
    static std::mutex mutex;
    return mutex;
}

constexpr int kCharges = 4; // 1, x, y, |y|² (coordinates relative to the grid centre)
constexpr int kMaxInterpolationPoints = 16;

/// Smallest n' ≥ n whose prime factors are all ≤ 7 (sizes FFTW transforms fastest).
int smoothAtLeast(int n)
{
    for (;; ++n) {
        int rest = n;
        for (const int f : {2, 3, 5, 7})
            while (rest % f == 0)
                rest /= f;
        if (rest == 1)
            return n;
    }
}

/// Where one coordinate falls on the node grid of one axis: its box, and the p Lagrange weights of that box's nodes.
struct AxisGrid {
    double lo = 0;   ///< left edge of the grid (centred coordinates)
    double invH = 0; ///< 1 / node spacing
    int boxes = 0;
    int p = 0;
    std::array<double, kMaxInterpolationPoints> invDenominator{}; ///< 1 / Π_{m≠k} (k − m)

    /// Box of centred coordinate `c`; fills w[0..p) with the weights of that box's nodes (at k + ½ in node units).
    int locate(double c, double *w) const
    {
        const double u = (c - lo) * invH; // position in node spacings from the grid edge
        int box = static_cast<int>(u / p);
        box = std::min(std::max(box, 0), boxes - 1);
        const double t = u - static_cast<double>(box) * p; // in [0, p]
        double diff[kMaxInterpolationPoints];
        for (int m = 0; m < p; ++m)
            diff[m] = t - (m + 0.5);
        for (int k = 0; k < p; ++k) {
            double product = invDenominator[static_cast<std::size_t>(k)];
            for (int m = 0; m < p; ++m)
                if (m != k)
                    product *= diff[m];
            w[k] = product;
        }
        return box;
    }
};

/// Where the grid lies for one call: the bounding square of the points (centre, span), the boxes per axis and the
/// node spacing, the interpolation set-up, and the point chunks that make sums independent of the thread count.
struct Layout {
    std::int64_t n = 0, chunks = 0;
    double cx = 0, cy = 0, span = 0, h = 0;
    int boxes = 0, m = 0; ///< boxes per axis, nodes per axis (boxes · p)
    AxisGrid axis;
};

constexpr std::int64_t kChunk = 16384;

Layout layoutOf(const std::vector<double> &y, std::int64_t n, const FftRepulsion::Options &options_)
{
    const int p = options_.interpolationPoints;
    // Bounding square. Min/max are exact, so per-chunk partial results combine the same way for any thread count.
    const std::int64_t chunks = (n + kChunk - 1) / kChunk;
    // A NaN would slip through min/max, so a running sum of 0·coordinate (NaN for NaN or ±inf) goes along.
    std::vector<std::array<double, 5>> extent(static_cast<std::size_t>(chunks));
    at::parallel_for(0, chunks, 1, [&](std::int64_t from, std::int64_t to) {
        for (std::int64_t c = from; c < to; ++c) {
            std::array<double, 5> e{HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL, 0.0};
            const std::int64_t last = std::min(n, (c + 1) * kChunk);
            for (std::int64_t i = c * kChunk; i < last; ++i) {
                const double px = y[static_cast<std::size_t>(2 * i)], py = y[static_cast<std::size_t>(2 * i + 1)];
                e[0] = std::min(e[0], px), e[1] = std::max(e[1], px);
                e[2] = std::min(e[2], py), e[3] = std::max(e[3], py);
                e[4] += 0.0 * px + 0.0 * py;
            }
            extent[static_cast<std::size_t>(c)] = e;
        }
    });
    double minX = HUGE_VAL, maxX = -HUGE_VAL, minY = HUGE_VAL, maxY = -HUGE_VAL, poison = 0;
    for (const auto &e : extent) {
        minX = std::min(minX, e[0]), maxX = std::max(maxX, e[1]), minY = std::min(minY, e[2]), maxY = std::max(maxY, e[3]);
        poison += e[4];
    }
    if (poison != 0 || !std::isfinite(maxX - minX) || !std::isfinite(maxY - minY))
        throw UsageError("FFT repulsion: positions hold NaN or infinite values");
    // Work relative to the centre of the square: the charges x, y, |y|² stay small, which limits cancellation.
    const double cx = 0.5 * (minX + maxX), cy = 0.5 * (minY + maxY);
    const double span = std::max({maxX - minX, maxY - minY, 1e-9}) * (1 + 1e-6) + 1e-12;
    const double wanted = std::ceil(span * options_.intervalsPerUnit);
    const int boxes = smoothAtLeast(static_cast<int>(
        std::min<double>(std::max<double>(wanted, options_.minIntervals), options_.maxIntervals)));
    const int m = boxes * p;
    const double h = span / m; // node spacing

    Layout L;
    L.n = n;
    L.chunks = chunks;
    L.cx = cx;
    L.cy = cy;
    L.span = span;
    L.boxes = boxes;
    L.m = m;
    L.h = h;
    AxisGrid &axis = L.axis;
    axis.lo = -0.5 * span;
    axis.invH = 1.0 / h;
    axis.boxes = boxes;
    axis.p = p;
    for (int k = 0; k < p; ++k) {
        double d = 1;
        for (int j = 0; j < p; ++j)
            if (j != k)
                d *= k - j;
        axis.invDenominator[static_cast<std::size_t>(k)] = 1.0 / d;
    }
    return L;
}

} // namespace

struct FftRepulsion::State {
    // FFT grid, padded in place for r2c: `fftSize` rows of `rowStride` doubles (fftSize + 2), the nodes in the
    // top-left nodes × nodes corner. One buffer per charge (charges in, potentials out) and one for the kernel.
    int nodes = 0;
    int fftSize = 0;
    std::size_t rowStride = 0;
    std::size_t capacity = 0; ///< doubles allocated per buffer
    std::array<double *, kCharges> grid{};
    double *kernel = nullptr;
    fftw_plan forward = nullptr;
    fftw_plan inverse = nullptr;

    // Per-call scratch, kept to avoid reallocation.
    std::vector<std::int32_t> boxX, boxY; ///< box of each point per axis
    std::vector<std::int32_t> order;      ///< points sorted by box row (stable: by index within a row)
    std::vector<std::int64_t> rowStart;   ///< first position in `order` of each box row, plus the end
    std::vector<double> partialZ;

    State() = default;
    State(const State &) = delete;
    State &operator=(const State &) = delete;
    ~State() { release(); }

    void release()
    {
        std::lock_guard<std::mutex> lock(plannerMutex());
        destroyPlans();
        freeBuffers();
        fftSize = 0;
        rowStride = 0;
    }

    /// Callers hold the planner lock.
    void destroyPlans()
    {
        if (forward)
            fftw_destroy_plan(forward);
        if (inverse)
            fftw_destroy_plan(inverse);
        forward = inverse = nullptr;
        nodes = 0;
    }

    void freeBuffers()
    {
        for (double *&g : grid) {
            fftw_free(g);
            g = nullptr;
        }
        fftw_free(kernel);
        kernel = nullptr;
        capacity = 0;
    }

    /// Buffers and plans for an M×M node grid (FFT size 2M × 2M); a no-op when they already fit.
    void prepare(int m)
    {
        if (m == nodes)
            return;
        const int size = 2 * m;
        const std::size_t stride = 2 * (static_cast<std::size_t>(size) / 2 + 1);
        const std::size_t needed = static_cast<std::size_t>(size) * stride;
        std::lock_guard<std::mutex> lock(plannerMutex());
        destroyPlans();
        if (needed > capacity) {
            freeBuffers();
            for (double *&g : grid)
                g = fftw_alloc_real(needed);
            kernel = fftw_alloc_real(needed);
            if (!kernel || std::any_of(grid.begin(), grid.end(), [](double *g) { return g == nullptr; }))
                throw std::bad_alloc();
            capacity = needed;
        }
        // In place; FFTW_ESTIMATE leaves the arrays alone while planning. Every buffer comes from fftw_malloc, so
        // they share the alignment the plans were made for and the new-array execute functions apply to all.
        forward = fftw_plan_dft_r2c_2d(size, size, grid[0], reinterpret_cast<fftw_complex *>(grid[0]), FFTW_ESTIMATE);
        inverse = fftw_plan_dft_c2r_2d(size, size, reinterpret_cast<fftw_complex *>(grid[0]), grid[0], FFTW_ESTIMATE);
        if (!forward || !inverse)
            throw std::runtime_error("FftRepulsion: FFTW could not plan a " + std::to_string(size) + "² transform");
        nodes = m;
        fftSize = size;
        rowStride = stride;
    }

    /// Each point's box, and the points ordered by box row (counting sort, stable).
    void sortPoints(const std::vector<double> &y, const Layout &L);
    /// The kernel at every node offset, wrapped around for the circular convolution.
    void fillKernel(const Layout &L);
    /// The four charges of every point spread onto the nodes.
    void spread(const std::vector<double> &y, const Layout &L);
    /// The kernel convolved with each charge grid (FFT, multiply, inverse FFT).
    void convolve();
    /// Potentials interpolated back to the points: writes the forces, returns Z.
    double interpolate(const std::vector<double> &y, const Layout &L, std::vector<double> &force);
};

FftRepulsion::FftRepulsion() : FftRepulsion(Options{}) {}

FftRepulsion::FftRepulsion(Options options) : options_(options), state_(std::make_unique<State>())
{
    if (options_.interpolationPoints < 1 || options_.interpolationPoints > kMaxInterpolationPoints)
        throw UsageError("FFT repulsion: interpolation points must be between 1 and " +
                         std::to_string(kMaxInterpolationPoints));
    if (options_.minIntervals < 1 || options_.maxIntervals < options_.minIntervals)
        throw UsageError("FFT repulsion: intervals need 1 <= minimum <= maximum");
    if (!(options_.intervalsPerUnit > 0) || !std::isfinite(options_.intervalsPerUnit))
        throw UsageError("FFT repulsion: intervals per unit must be a positive number");
}

FftRepulsion::~FftRepulsion() = default;

void FftRepulsion::State::sortPoints(const std::vector<double> &y, const Layout &L)
{
    State &s = *this;
    const std::int64_t n = L.n;
    const int boxes = L.boxes;
    const double cx = L.cx, cy = L.cy;
    const AxisGrid &axis = L.axis;
    // Boxes of every point, then the points sorted by box row (counting sort, stable).
    s.boxX.resize(static_cast<std::size_t>(n));
    s.boxY.resize(static_cast<std::size_t>(n));
    at::parallel_for(0, n, 4096, [&](std::int64_t from, std::int64_t to) {
        double w[kMaxInterpolationPoints];
        for (std::int64_t i = from; i < to; ++i) {
            s.boxX[static_cast<std::size_t>(i)] = axis.locate(y[static_cast<std::size_t>(2 * i)] - cx, w);
            s.boxY[static_cast<std::size_t>(i)] = axis.locate(y[static_cast<std::size_t>(2 * i + 1)] - cy, w);
        }
    });
    s.rowStart.assign(static_cast<std::size_t>(boxes) + 1, 0);
    for (std::int64_t i = 0; i < n; ++i)
        ++s.rowStart[static_cast<std::size_t>(s.boxY[static_cast<std::size_t>(i)]) + 1];
    for (int b = 0; b < boxes; ++b)
        s.rowStart[static_cast<std::size_t>(b) + 1] += s.rowStart[static_cast<std::size_t>(b)];
    s.order.resize(static_cast<std::size_t>(n));
    {
        std::vector<std::int64_t> cursor(s.rowStart.begin(), s.rowStart.end() - 1);
        for (std::int64_t i = 0; i < n; ++i)
            s.order[static_cast<std::size_t>(cursor[static_cast<std::size_t>(s.boxY[static_cast<std::size_t>(i)])]++)] =
                static_cast<std::int32_t>(i);
    }
}

void FftRepulsion::State::fillKernel(const Layout &L)
{
    State &s = *this;
    const double h = L.h;
    const int size = s.fftSize;
    const std::size_t stride = s.rowStride;
    // Kernel K(d) = 1 / (1 + d²)² at every node offset, wrapped around for the circular convolution, and scaled by
    // 1 / size² (FFTW's transforms are unnormalised). Even in both axes, so its transform is real.
    {
        const double h2 = h * h;
        const double scale = 1.0 / (static_cast<double>(size) * size);
        at::parallel_for(0, size, 16, [&](std::int64_t from, std::int64_t to) {
            for (std::int64_t r = from; r < to; ++r) {
                const double di = static_cast<double>(std::min<std::int64_t>(r, size - r));
                double *row = s.kernel + static_cast<std::size_t>(r) * stride;
                for (int c = 0; c < size; ++c) {
                    const double dj = std::min(c, size - c);
                    const double q = 1.0 / (1.0 + h2 * (di * di + dj * dj));
                    row[c] = q * q * scale;
                }
                for (std::size_t c = static_cast<std::size_t>(size); c < stride; ++c)
                    row[c] = 0;
            }
        });
    }
}

void FftRepulsion::State::spread(const std::vector<double> &y, const Layout &L)
{
    State &s = *this;
    const std::int64_t n = L.n;
    const int p = L.axis.p, boxes = L.boxes, m = L.m;
    const double cx = L.cx, cy = L.cy;
    const AxisGrid &axis = L.axis;
    const int size = s.fftSize;
    const std::size_t stride = s.rowStride;
    // Spread the charges onto the nodes. Box row b owns node rows [b·p, (b+1)·p): parallel tasks take whole box rows,
    // so no two write the same node, and each node sums its points in index order — whatever the thread count.
    // Strips of box rows with about equal numbers of points balance the work; zero padding rows are split evenly.
    {
        const int strips = std::min(boxes, std::max(1, 4 * at::get_num_threads()));
        std::vector<int> stripStart(static_cast<std::size_t>(strips) + 1, boxes);
        stripStart[0] = 0;
        {
            int b = 0;
            for (int t = 1; t < strips; ++t) {
                const std::int64_t target = n * t / strips;
                while (b < boxes && s.rowStart[static_cast<std::size_t>(b)] < target)
                    ++b;
                stripStart[static_cast<std::size_t>(t)] = std::max(b, stripStart[static_cast<std::size_t>(t) - 1]);
            }
        }
        at::parallel_for(0, strips, 1, [&](std::int64_t from, std::int64_t to) {
            double wx[kMaxInterpolationPoints], wy[kMaxInterpolationPoints];
            for (std::int64_t t = from; t < to; ++t) {
                const int b0 = stripStart[static_cast<std::size_t>(t)], b1 = stripStart[static_cast<std::size_t>(t) + 1];
                // Zero this strip's node rows, and its share of the padding rows below the nodes.
                const std::int64_t pad0 = m + (size - m) * t / strips, pad1 = m + (size - m) * (t + 1) / strips;
                for (double *g : s.grid) {
                    std::memset(g + static_cast<std::size_t>(b0) * p * stride, 0,
                                sizeof(double) * static_cast<std::size_t>(b1 - b0) * p * stride);
                    std::memset(g + static_cast<std::size_t>(pad0) * stride, 0,
                                sizeof(double) * static_cast<std::size_t>(pad1 - pad0) * stride);
                }
                const std::int64_t first = s.rowStart[static_cast<std::size_t>(b0)];
                const std::int64_t last = s.rowStart[static_cast<std::size_t>(b1)];
                for (std::int64_t k = first; k < last; ++k) {
                    const std::int64_t i = s.order[static_cast<std::size_t>(k)];
                    const double px = y[static_cast<std::size_t>(2 * i)] - cx;
                    const double py = y[static_cast<std::size_t>(2 * i + 1)] - cy;
                    const int bx = axis.locate(px, wx);
                    const int by = axis.locate(py, wy);
                    const double r2 = px * px + py * py;
                    double *g0 = s.grid[0], *g1 = s.grid[1], *g2 = s.grid[2], *g3 = s.grid[3];
                    for (int a = 0; a < p; ++a) {
                        const std::size_t rowOffset = (static_cast<std::size_t>(by) * p + a) * stride +
                                                      static_cast<std::size_t>(bx) * p;
                        for (int c = 0; c < p; ++c) {
                            const double w = wy[a] * wx[c];
                            const std::size_t o = rowOffset + c;
                            g0[o] += w;
                            g1[o] += w * px;
                            g2[o] += w * py;
                            g3[o] += w * r2;
                        }
                    }
                }
            }
        });
    }
}

void FftRepulsion::State::convolve()
{
    State &s = *this;
    const int size = s.fftSize;
    const std::size_t stride = s.rowStride;
    // Convolve: one transform of the kernel, then per charge forward, multiply, inverse (charges in parallel).
    fftw_execute_dft_r2c(s.forward, s.kernel, reinterpret_cast<fftw_complex *>(s.kernel));
    const std::size_t spectrum = static_cast<std::size_t>(size) * (stride / 2); // complex values per buffer
    at::parallel_for(0, kCharges, 1, [&](std::int64_t from, std::int64_t to) {
        for (std::int64_t c = from; c < to; ++c) {
            double *g = s.grid[static_cast<std::size_t>(c)];
            fftw_execute_dft_r2c(s.forward, g, reinterpret_cast<fftw_complex *>(g));
            for (std::size_t k = 0; k < spectrum; ++k) {
                const double kr = s.kernel[2 * k]; // the kernel's spectrum is real
                g[2 * k] *= kr;
                g[2 * k + 1] *= kr;
            }
            fftw_execute_dft_c2r(s.inverse, reinterpret_cast<fftw_complex *>(g), g);
        }
    });
}

double FftRepulsion::State::interpolate(const std::vector<double> &y, const Layout &L, std::vector<double> &force)
{
    State &s = *this;
    const std::int64_t n = L.n, chunks = L.chunks;
    const int p = L.axis.p;
    const double cx = L.cx, cy = L.cy;
    const AxisGrid &axis = L.axis;
    const std::size_t stride = s.rowStride;
    // Interpolate the potentials back to the points (in box-row order: the grid is read row by row), forces and the
    // per-point terms of Z. Z sums fixed chunks of that order, then the chunks in order: independent of threads.
    s.partialZ.assign(static_cast<std::size_t>(chunks), 0.0);
    at::parallel_for(0, chunks, 1, [&](std::int64_t from, std::int64_t to) {
        double wx[kMaxInterpolationPoints], wy[kMaxInterpolationPoints];
        const double *g0 = s.grid[0], *g1 = s.grid[1], *g2 = s.grid[2], *g3 = s.grid[3];
        for (std::int64_t ch = from; ch < to; ++ch) {
            double z = 0;
            const std::int64_t last = std::min(n, (ch + 1) * kChunk);
            for (std::int64_t k = ch * kChunk; k < last; ++k) {
                const std::int64_t i = s.order[static_cast<std::size_t>(k)];
                const double px = y[static_cast<std::size_t>(2 * i)] - cx;
                const double py = y[static_cast<std::size_t>(2 * i + 1)] - cy;
                const int bx = axis.locate(px, wx);
                const int by = axis.locate(py, wy);
                double phi1 = 0, phiX = 0, phiY = 0, phi2 = 0;
                for (int a = 0; a < p; ++a) {
                    const std::size_t rowOffset = (static_cast<std::size_t>(by) * p + a) * stride +
                                                  static_cast<std::size_t>(bx) * p;
                    double r1 = 0, rX = 0, rY = 0, rR = 0;
                    for (int c = 0; c < p; ++c) {
                        const std::size_t o = rowOffset + c;
                        r1 += wx[c] * g0[o];
                        rX += wx[c] * g1[o];
                        rY += wx[c] * g2[o];
                        rR += wx[c] * g3[o];
                    }
                    phi1 += wy[a] * r1, phiX += wy[a] * rX, phiY += wy[a] * rY, phi2 += wy[a] * rR;
                }
                force[static_cast<std::size_t>(2 * i)] = px * phi1 - phiX;
                force[static_cast<std::size_t>(2 * i + 1)] = py * phi1 - phiY;
                z += (1 + px * px + py * py) * phi1 - 2 * (px * phiX + py * phiY) + phi2;
            }
            s.partialZ[static_cast<std::size_t>(ch)] = z;
        }
    });
    double z = 0;
    for (const double part : s.partialZ)
        z += part;
    return z - static_cast<double>(n);
}

double FftRepulsion::compute(const std::vector<double> &y, std::vector<double> &force)
{
    if (y.size() % 2 != 0)
        throw UsageError("FFT repulsion: positions must come in (x, y) pairs");
    const std::int64_t n = static_cast<std::int64_t>(y.size() / 2);
    force.assign(y.size(), 0.0);
    if (n < 2)
        return 0.0;
    const Layout layout = layoutOf(y, n, options_);
    State &s = *state_;
    s.prepare(layout.m);
    s.sortPoints(y, layout);
    s.fillKernel(layout);
    s.spread(y, layout);
    s.convolve();
    return s.interpolate(y, layout, force);
}

} // namespace convscope
