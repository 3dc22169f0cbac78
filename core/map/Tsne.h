#pragma once
// t-SNE (van der Maaten & Hinton 2008) of feature vectors to 2-D, for the dataset map.
//   Affinities: each point's 3·perplexity nearest neighbours (exact search below `exactNeighboursBelow` points,
//   HNSW above), Gaussian bandwidths found by bisection to the perplexity, symmetrised P = (P + Pᵀ) / 2N.
//   Gradient: attraction over the sparse P; repulsion exactly (all pairs) for small N, Barnes-Hut on a quadtree
//   (θ = `theta`) for mid-sized maps, and FFT-accelerated interpolation (FIt-SNE, see FftRepulsion) for large ones. Optimiser: momentum 0.5 → 0.8, per-coordinate gains (delta-bar-delta), early
//   exaggeration for the first `exaggerationIterations`, as in the reference implementation and scikit-learn.
//   Initialisation: the first two principal components, scaled to standard deviation 1e-4 (as openTSNE).
// Deterministic below `exactNeighboursBelow` points: the PCA start and exact neighbour search involve no randomness,
// and every force is summed in the same order whatever the thread count (at::parallel_for over points). Above it the
// HNSW graph, built in parallel, may differ slightly from run to run.
//
// Usage: Tsne t(x, options); while (!t.done()) { t.run(50); draw(t.embedding()); } — chunks for progress,
// animation and cancel.
#include "map/FftRepulsion.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace convscope {

class Tsne {
public:
    /// How the repulsive forces are computed.
    enum class Repulsion {
        Auto,      ///< Exact below `exactBelow` points, Barnes-Hut below `fftAbove`, FFT interpolation above
        Exact,     ///< all pairs, O(N²)
        BarnesHut, ///< quadtree, O(N log N), accuracy by `theta`
        Fft        ///< interpolation on a grid + FFT convolution, O(N) (FIt-SNE)
    };

    struct Options {
        double perplexity = 30;           ///< effective number of neighbours (larger: more global structure)
        int iterations = 750;             ///< optimisation steps in all
        double earlyExaggeration = 12;    ///< P is multiplied by this at first (clusters form, then settle)
        int exaggerationIterations = 250; ///< steps with exaggeration
        double learningRate = 0;          ///< 0 = max(N / 12, 200) (Belkina et al. 2019)
        double theta = 0.5;               ///< Barnes-Hut accuracy (0 = exact; larger = faster, coarser)
        Repulsion repulsion = Repulsion::Auto;
        int exactBelow = 1500;            ///< Auto: exact O(N²) repulsion below this many points
        int fftAbove = 10000;             ///< Auto: FFT interpolation from this many points on
        FftRepulsion::Options fft;        ///< grid settings of the FFT repulsion
        int exactNeighboursBelow = 20000; ///< exact kNN search below this many points, HNSW above
    };

    /// `x`: N×D features (rows = points; typically PCA-reduced to 50). Throws UsageError for N < 4 or rows of NaN.
    Tsne(const torch::Tensor &x, Options options);

    /// Advances by up to `steps` iterations.
    void run(int steps);
    bool done() const { return iteration_ >= options_.iterations; }
    int iteration() const { return iteration_; }
    int iterations() const { return options_.iterations; }
    /// N×2 current positions (a copy).
    torch::Tensor embedding() const;
    /// Kullback-Leibler divergence of the current map (exact; O(N²): for tests and small N).
    double klDivergence() const;

    /// The gradient at the current positions (N×2) with that repulsion (Auto: as `run` uses; for tests).
    std::vector<double> gradient(Repulsion repulsion) const;

private:
    void affinities(const torch::Tensor &x);
    void repulsion(Repulsion method, std::vector<double> &force, double &z) const;

    Options options_;
    std::int64_t n_ = 0;
    int iteration_ = 0;
    std::vector<std::int64_t> rowStart_, cols_; ///< CSR of the symmetrised P
    std::vector<double> values_;
    std::vector<double> y_, update_, gains_;    ///< N×2 row-major
    mutable std::unique_ptr<FftRepulsion> fft_; ///< made on first use (keeps FFT plans between iterations)
};

} // namespace convscope
