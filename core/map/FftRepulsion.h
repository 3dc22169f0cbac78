#pragma once
// The repulsive half of the t-SNE gradient for 2-D maps in O(N) per iteration, by polynomial interpolation on a
// regular grid and FFT convolution (Linderman et al. 2019, "FIt-SNE"; as in openTSNE).
//   With q_ij = 1 / (1 + |y_i − y_j|²), every point needs  F_i = Σ_j q_ij² (y_i − y_j)  and the map needs
//   Z = Σ_{i≠j} q_ij. Both follow from four sums over the one kernel K(d) = 1 / (1 + d²)², applied to the charges
//   1, y_x, y_y and |y|²:  F_i = y_i·φ1_i − φ_y,i  and  Z = Σ_i [(1 + |y_i|²)·φ1_i − 2 y_i·φ_y,i + φ_|y|²,i] − N.
//   The bounding square of the points is cut into B×B boxes (B = clamp(span · intervalsPerUnit, minIntervals,
//   maxIntervals), rounded up to a 7-smooth count for FFTW), each holding p×p equispaced nodes; charges are spread
//   onto the nodes with Lagrange weights, the kernel is convolved on the node grid by zero-padded FFTs (FFTW), and
//   potentials are interpolated back. Coordinates are taken relative to the grid centre (less cancellation).
// Accuracy (tests compare with the exact sums): with the defaults (p = 3, one box per unit, as FIt-SNE and openTSNE)
//   Z is within about 1e-3 and the forces within about 2e-2 (‖F − F_exact‖ / ‖F_exact‖) on dense clustered maps;
//   p = 5 gives about 1e-5 and 1e-3; intervalsPerUnit = 2 with p = 3 about 1e-4 and 2e-3.
// Cost: one kernel transform and four forward + four inverse transforms of (2·B·p)² points per call, plus O(N·p²);
//   buffers (5 · (2Bp)² doubles: about 150 MB at B = 320) are kept and only grow; plans are remade when B changes.
// Threads: at::parallel_for over points, grid rows and charges; the result is bit-identical for any thread count
//   (each node is summed by one task in point order, Z in fixed chunks). FFTW planning is serialised by a global lock.
#include <cstdint>
#include <memory>
#include <vector>

namespace convscope {

class FftRepulsion {
public:
    struct Options {
        int interpolationPoints = 3;  ///< nodes per box and axis (more: more accurate, slower)
        int minIntervals = 50;        ///< boxes per axis at least (small maps keep this resolution)
        double intervalsPerUnit = 1;  ///< boxes per unit of map span (finer: more accurate, slower)
        int maxIntervals = 320;       ///< boxes per axis at most (bounds the FFT for million-point maps)
    };

    FftRepulsion();
    explicit FftRepulsion(Options options);
    ~FftRepulsion();
    FftRepulsion(const FftRepulsion &) = delete;
    FftRepulsion &operator=(const FftRepulsion &) = delete;

    /// `y`: N×2 positions, row-major. Writes `force` (resized to N×2): F_i = Σ_{j≠i} q_ij² (y_i − y_j), and
    /// returns Z = Σ_{i≠j} q_ij. Not thread-safe for one object (it keeps FFT plans and buffers between calls).
    double compute(const std::vector<double> &y, std::vector<double> &force);

private:
    struct State;
    Options options_;
    std::unique_ptr<State> state_;
};

} // namespace convscope
