#pragma once
// The learned part of an adapted descriptor: raw pooled features (N×D) → L2 normalisation → a linear map to `dims`
// (initialised as the PCA of the unadapted descriptor, so training starts from it) plus, optionally, a residual
// hidden layer (ReLU; its output weights start at zero) → L2 normalisation.
//   y = normalise( W·x̂ + b + W₂·relu(W₁·x̂ + b₁) ),  x̂ = x / ‖x‖
// Parameters are plain tensors (requires_grad), so the trainer owns the optimiser and TorchScript export can
// rebuild the same function (AdaptedModelWriter).
#include "search/DescriptorPipeline.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace convscope {

class ProjectionHead {
public:
    struct Options {
        int dims = 128;  ///< descriptor size; capped at the feature size. Smaller = cheaper index, less detail
        int hidden = 0;  ///< width of a residual hidden layer; 0 = a linear head (the default: on the demo's
                         ///< unseen classes a 512-wide one peaked higher after 2 epochs, then overfitted)
    };

    ProjectionHead() = default;
    /// Starts as `pca` (fitted with normalise on, PCA to `options.dims`, no whitening); the hidden branch (if any)
    /// draws its input weights from `seed` and outputs zero. Throws UsageError when the pipeline has no PCA.
    ProjectionHead(const DescriptorPipeline &pca, Options options, std::uint64_t seed);

    const Options &options() const { return options_; }
    std::int64_t inputDims() const { return weight_.size(0); }
    std::int64_t outputDims() const { return weight_.size(1); }

    /// N×dims descriptors of raw features N×D (differentiable with respect to parameters()).
    torch::Tensor forward(const torch::Tensor &features) const;
    /// The tensors that training updates, in a fixed order.
    std::vector<torch::Tensor> parameters() const;

    /// Writes `dir`/head_*.npy and head.json; load() reads them back. IoError / DataError.
    void save(const std::string &dir) const;
    static ProjectionHead load(const std::string &dir);
    /// A deep copy with its own parameter storage.
    ProjectionHead clone() const;

    const torch::Tensor &weight() const { return weight_; }             ///< D×dims
    const torch::Tensor &bias() const { return bias_; }                 ///< dims
    const torch::Tensor &hiddenWeight() const { return hiddenWeight_; } ///< D×hidden (undefined for linear)
    const torch::Tensor &hiddenBias() const { return hiddenBias_; }     ///< hidden
    const torch::Tensor &outputWeight() const { return outputWeight_; } ///< hidden×dims

private:
    Options options_;
    torch::Tensor weight_, bias_, hiddenWeight_, hiddenBias_, outputWeight_;
};

} // namespace convscope
