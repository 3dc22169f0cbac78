#pragma once
// UMAP (McInnes, Healy & Melville 2018) of feature vectors to 2-D or 3-D, for the dataset map.
//   Graph: each point's `neighbours` − 1 nearest others (KnnGraph: exact below `exactNeighboursBelow` points, HNSW
//   above); per point ρ = distance to the nearest, σ by bisection so that Σ_j exp(−(d_ij − ρ)/σ) = log2(neighbours);
//   the fuzzy union w = a + b − a·b of both directions; edges weaker than max / epochs are dropped.
//   Start: spectral — the leading non-trivial eigenvectors of D^−½ W D^−½ (block subspace iteration with
//   Rayleigh-Ritz), scaled into [0, 10] with a little noise, as umap-learn.
//   Layout: stochastic gradient descent on the fuzzy cross-entropy with the curve 1 / (1 + a·d^2b) (a, b fitted to
//   `minDist` and `spread`); an edge is sampled every max(w) / w epochs, each sample followed by
//   `negativeSampleRate` random repulsions; step clipped to ±4, learning rate falling linearly to 0.
// Seeded and reproducible with any number of threads (below KnnGraph's exact-search limit; above, HNSW may vary a
// little): points are split into fixed blocks of 1,024, each cut into 32 rounds; an epoch runs round 0 of all blocks
// in parallel, then round 1, and so on. A block moves only its own points, with a random stream of its own (seed,
// epoch, block, round), reading points of earlier rounds as they are and the rest as they were when the epoch
// began — nearly a sequential (Gauss-Seidel) pass; a pass that read only the epoch's
// start positions lost 0.007 of 10-NN accuracy on Fashion-MNIST. Each point is moved by its own edges only (the graph
// is symmetric, so both ends of a pair are still pulled, each in its own turn). umap-learn also moves the far end of
// every sample, which doubles the attraction; doubling ours the same way lost 0.016 of 10-NN accuracy on the 70,000
// Fashion-MNIST pixel vectors (4 seeds) and changed nothing on the demo model's features, so the pull is not doubled.
//
// Usage: Umap u(x, options); while (!u.done()) { u.run(10); draw(u.embedding()); }
#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace convscope {

class Umap {
public:
    struct Options {
        int neighbours = 15;          ///< n_neighbors, counting the point itself (larger: more global structure)
        double minDist = 0.1;         ///< closest distance of points in the map (smaller: tighter clumps)
        double spread = 1.0;          ///< scale of the map's distances (with minDist, sets how clumps spread)
        int epochs = 0;               ///< SGD epochs; 0 = 500 below 10,000 points, else 200 (as umap-learn)
        double learningRate = 1.0;    ///< initial SGD step
        int negativeSampleRate = 5;   ///< random repulsions per edge sample (more: clusters pushed further apart)
        double repulsionStrength = 1; ///< weight of the repulsions (γ)
        int dimensions = 2;           ///< 2 or 3
        std::uint64_t seed = 42;      ///< the random streams (noise of the start, negative samples)
        int exactNeighboursBelow = 20000; ///< exact kNN search below this many points, HNSW above
    };

    /// `x`: N×D features (rows = points). Throws UsageError for N < 4, NaN rows, or dimensions other than 2 or 3.
    Umap(const torch::Tensor &x, Options options);

    /// Advances by up to `epochs` SGD epochs.
    void run(int epochs);
    bool done() const { return epoch_ >= epochs_; }
    int iteration() const { return epoch_; }
    int iterations() const { return epochs_; }
    /// N×dims current positions (a copy).
    torch::Tensor embedding() const;

    /// The a, b of 1 / (1 + a·d^2b) that best fit 1 below minDist and exp(−(d − minDist) / spread) above
    /// (least squares over [0, 3·spread], Levenberg-Marquardt).
    static std::pair<double, double> fitCurve(double spread, double minDist);
    std::pair<double, double> curve() const { return {a_, b_}; }
    /// Fuzzy graph weight of the edge i – j (0 when absent or pruned; symmetric).
    double weight(std::int64_t i, std::int64_t j) const;
    std::int64_t edges() const { return static_cast<std::int64_t>(cols_.size()); }

private:
    void fuzzyGraph(const torch::Tensor &x);
    void spectralStart();
    void epoch();

    Options options_;
    std::int64_t n_ = 0;
    int dims_ = 2, epoch_ = 0, epochs_ = 0;
    double a_ = 0, b_ = 0;
    std::vector<std::int64_t> rowStart_, cols_; ///< CSR of the symmetric fuzzy graph (rows = heads)
    std::vector<float> weights_;
    std::vector<float> epochsPerSample_, nextSample_, nextNegative_; ///< per edge, in epochs
    std::vector<float> y_, snapshot_; ///< N×dims row-major
};

} // namespace convscope
