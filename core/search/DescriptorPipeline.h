#pragma once
// Image descriptors from pooled network features (Babenko et al. 2014 "Neural Codes"; Babenko & Lempitsky 2015
// "SPoC"): L2 normalisation, PCA or PCA-whitening learned on the dataset to a chosen size, and re-normalisation.
// Matrix layout: rows = images, columns = dimensions (float32).
//
// Usage: DescriptorPipeline p(options); p.fit(features); auto d = p.transform(features); p.save(dir) / load(dir).
#include <torch/types.h>

#include <string>

namespace convscope {

class DescriptorPipeline {
public:
    struct Options {
        bool normalise = true;    ///< L2-normalise the raw features first (SPoC, MAC and neural codes all do)
        int pca = 128;            ///< output size; 0 = no PCA. Capped at the feature size and the number of images
        bool whiten = false;      ///< divide each component by √(its variance): every direction counts the same
        bool renormalise = true;  ///< L2-normalise again after PCA (so L2 ranks like cosine)
    };

    DescriptorPipeline() = default;
    explicit DescriptorPipeline(Options options) : options_(options) {}

    /// Learns the PCA from `features` (N×D; rows containing NaN — skipped images — are ignored). Throws DataError
    /// when fewer than 2 usable rows remain.
    void fit(const torch::Tensor &features);
    /// N×d descriptors (d = output size). Rows of NaN stay NaN.
    torch::Tensor transform(const torch::Tensor &features) const;

    const Options &options() const { return options_; }
    std::int64_t inputDims() const { return mean_.defined() ? mean_.size(0) : 0; }
    std::int64_t outputDims() const;
    /// Fraction of the (normalised) features' variance kept by the first 1, 2, ... components (all components).
    const torch::Tensor &explainedVariance() const { return explained_; }
    const torch::Tensor &mean() const { return mean_; }             ///< D (of the normalised features)
    const torch::Tensor &components() const { return components_; } ///< D×d; undefined without PCA

    /// Writes `dir`/pca.npy-style files (mean, components, variances) and options; load() reads them. IoError.
    void save(const std::string &dir) const;
    static DescriptorPipeline load(const std::string &dir);

private:
    torch::Tensor prepare(const torch::Tensor &features) const;

    Options options_;
    torch::Tensor mean_;       ///< D
    torch::Tensor components_; ///< D×d (columns = principal directions, by decreasing variance)
    torch::Tensor variances_;  ///< d
    torch::Tensor explained_;  ///< cumulative explained-variance ratio over all components
};

} // namespace convscope
