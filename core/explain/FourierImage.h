#pragma once
// A batch of images described by their Fourier spectra, the parametrisation that makes activation maximisation
// produce readable images instead of high-frequency noise (Olah et al., "Feature Visualization", Distill 2017):
// every frequency gets a step of the same size from a gradient optimiser, but its effect on the pixels is scaled by
// 1/frequency, so the image is built coarse first. Colour channels are mixed through a fixed 3×3 matrix (the square
// root of natural images' colour covariance), so the optimiser works on decorrelated colours.
//
// Exactly (the PyTorch reference in tests/fixtures/make_synthesis_reference.py writes the same formula):
//   spectrum  P: B×C×H×(W/2+1)×2 (real, imaginary), the parameters
//   weight    w(fy, fx) = (1 / (M · max(sqrt(fy² + fx²), 1/M)))^decay,  M = max(H, W), f in cycles per pixel
//             (torch.fft.fftfreq(H) for fy, rfftfreq(W) for fx); 1 at the lowest frequencies
//   spatial   S = amplitude · irfft2(complex(P) · w, s = (H, W), norm = "forward")
//   colour    RGB: X[b, i] = Σ_j colour[i][j] · S[b, j]; grey: X = S
//   image     sigmoid(X), in [0, 1]
#include <torch/torch.h>

#include <array>
#include <cstdint>

namespace convscope {

class FourierImage {
public:
    struct Options {
        int batch = 1;          ///< images
        int channels = 3;       ///< 1 (grey) or 3 (RGB)
        int height = 224;
        int width = 224;
        double decay = 1.0;     ///< how strongly high frequencies are damped (0: plain pixels in a Fourier basis)
        double amplitude = 0.25; ///< spectrum-to-pixel scale before the sigmoid; larger = a faster, harsher start
        double initialSd = 0.01; ///< standard deviation of the random initial spectrum
        /// Colour mixing for RGB (row-major 3×3); see naturalColourCorrelation().
        std::array<float, 9> colour = naturalColourCorrelation();
    };

    /// A random initial spectrum drawn from `seed`. Throws UsageError for bad sizes or channel counts.
    FourierImage(const Options &options, std::uint64_t seed);

    /// The parameters (B×C×H×(W/2+1)×2, requires grad); hand them to an optimiser or overwrite them in place.
    torch::Tensor &spectrum() { return spectrum_; }
    /// The images (B×C×H×W in [0, 1]), differentiable with respect to spectrum().
    torch::Tensor images() const;
    /// The frequency weights (H×(W/2+1)).
    const torch::Tensor &weights() const { return weights_; }

    /// The square root of the colour covariance of natural photos (the scikit-image sample photos, pixels in
    /// [0, 1]), from its eigen-decomposition U·sqrt(Λ) (columns signed to a positive sum), scaled so that its
    /// largest column norm is 1.
    static std::array<float, 9> naturalColourCorrelation();
    /// The same square root for pixels sampled from a dataset (N×3, values in [0, 1]); for collections whose
    /// colours differ from photos (microscopy, drawings). Throws DataError when fewer than 2 pixels are given.
    static std::array<float, 9> colourCorrelationOf(const torch::Tensor &pixels);

private:
    Options options_;
    torch::Tensor spectrum_;
    torch::Tensor weights_;
    torch::Tensor colour_; ///< 3×3
};

} // namespace convscope
