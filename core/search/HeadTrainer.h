#pragma once
// Trains a ProjectionHead on stored features with a MetricLoss: Adam, batches of classes drawn together (P×K: a
// batch holds groups of `perClass` images of one class, so batches have positives and negatives), every training
// image once per epoch; a batch that happens to hold no triplet (one class only) is skipped. Seeded: the same inputs and options give the same head, whether the epochs run
// in one go or are resumed from saved state.
//
// Usage: HeadTrainer t(features, labels, head, options); while (!t.done()) t.runEpoch(progress);
// A cancelled epoch (CancelledError) is rolled back: head() is the head after the last finished epoch.
#include "search/MetricLoss.h"
#include "search/ProjectionHead.h"

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace convscope {

class Progress;

class HeadTrainer {
public:
    struct Options {
        MetricLoss::Options loss;
        int epochs = 10;            ///< passes over the training images; more fits the training classes closer
        int batch = 256;            ///< images per step; larger = more (and harder) negatives per anchor
        int perClass = 8;           ///< K: images of one class drawn together (≥ 2)
        double learningRate = 1e-3; ///< Adam step size; larger moves away from the starting descriptor faster
        double backboneLearningRate = 1e-4; ///< Adam step size of fine-tuned network weights (smaller: they start
                                            ///< trained, and large steps undo what they learned)
        std::uint64_t seed = 1;     ///< batches, random negatives and the hidden layer's start
    };
    struct Epoch {
        int epoch = 0;       ///< 1-based
        double loss = 0;     ///< mean loss over the epoch's steps
        double active = 0;   ///< mean MetricLoss::activeFraction over the steps
        std::int64_t steps = 0; ///< optimiser steps (batches with triplets)
    };

    /// `features` N×D (float, no NaN rows), `labels` N class ids (≥ 0). Throws DataError when fewer than 2
    /// classes or no class with 2 images is present.
    HeadTrainer(torch::Tensor features, std::vector<std::int64_t> labels, ProjectionHead head, Options options);

    /// Features computed per batch: `describe(rows)` returns the features of training images `rows` (int64
    /// indices into `labels`), differentiable with respect to `extra` — network weights trained with the head
    /// (BackboneTuner), updated in place with `backboneLearningRate`.
    using Describe = std::function<torch::Tensor(const torch::Tensor &rows)>;
    HeadTrainer(Describe describe, std::vector<std::int64_t> labels, ProjectionHead head,
                std::vector<torch::Tensor> extra, Options options);

    int finishedEpochs() const { return epoch_; }
    bool done() const { return epoch_ >= options_.epochs; }
    /// Runs the next epoch. Reports steps to `progress`; when it asks to stop, rolls the epoch back and throws
    /// CancelledError.
    Epoch runEpoch(Progress *progress = nullptr);

    const ProjectionHead &head() const { return head_; }
    const Options &options() const { return options_; }

    /// Optimiser state and head after the last finished epoch (`dir`/trainer_*.npy, head files); restore() reads
    /// it back into a trainer made with the same features and options and returns the epochs it had finished.
    /// IoError / DataError.
    void save(const std::string &dir) const;
    int restore(const std::string &dir);

private:
    std::vector<std::vector<std::int64_t>> batches(int epoch) const;
    void step(const std::vector<std::int64_t> &rows, std::mt19937_64 &rng, Epoch &sums);

    void setUp();

    Describe describe_;
    torch::Tensor labels_;
    ProjectionHead head_;
    std::vector<torch::Tensor> extra_;
    Options options_;
    MetricLoss loss_;
    std::vector<torch::Tensor> moment1_, moment2_;
    std::int64_t steps_ = 0;
    int epoch_ = 0;
};

} // namespace convscope
