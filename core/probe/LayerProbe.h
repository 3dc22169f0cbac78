#pragma once
// "Which layer classifies best" over a project: a linear classifier (LinearClassifier) trained on each layer's
// stored features — fully connected outputs as they are, maps sum-pooled (SPoC) or max-pooled (MAC) — on the
// training split of the dataset (ProbeSplit) and scored on its test split. DeCAF's table for the user's own data.
//
// Usage: LayerProbe probe(project, options); while (!probe.run(progress)) ...; or LayerProbe::compare(...).
// One step = one layer × classifier × repeat; a layer whose features cannot be used (NaN, too few images) gives
// a row with its error and the other rows are still computed.
#include "probe/LinearClassifier.h"
#include "probe/ProbeSplit.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace convscope {

class Progress;

class LayerProbe {
public:
    struct Options {
        std::vector<std::string> layers;                    ///< layer paths or display names (empty = all with features)
        std::vector<LinearClassifier::Kind> classifiers{LinearClassifier::Kind::LogisticRegression,
                                                        LinearClassifier::Kind::LinearSvm};
        std::string mapDescriptor = "spoc";                 ///< for map layers: spoc (sum-pooled) or mac (max-pooled)
        double c = 1.0;                                     ///< the classifiers' C
        int maxIterations = 500;                            ///< L-BFGS iterations per training
        ProbeSplit::Options split;
        int repeats = 0;                                    ///< splits drawn (seeds seed..seed+repeats−1); 0 = 5
                                                            ///< with perClass (small training sets vary), else 1
    };
    struct Row {
        std::string layer, descriptor, classifier;
        std::int64_t dims = 0, trainImages = 0, testImages = 0;
        double accuracy = 0;      ///< mean over the repeats (0..1)
        double spread = 0;        ///< standard deviation over the repeats (0 with one)
        int repeats = 0;
        int iterations = 0;       ///< L-BFGS iterations of the last training
        bool converged = false;   ///< every training converged
        std::string error;        ///< why this layer could not be probed (the row holds no accuracy then)
    };

    /// Finds the features of the newest complete scan of `project` (and scans of the same model and dataset).
    /// Throws DataError (no complete scan, no labels, no features) or UsageError (a layer without features).
    LayerProbe(const std::string &project, Options options);

    /// Runs the next step; true when every row is done. Stops with CancelledError when `progress` asks.
    bool run(Progress *progress = nullptr);
    const std::vector<Row> &rows() const { return rows_; }
    std::int64_t steps() const;
    /// How the images were split, for the table's caption.
    const std::string &splitDescription() const { return splitHow_; }

    /// All of it at once.
    static std::vector<Row> compare(const std::string &project, const Options &options, Progress *progress = nullptr);

private:
    struct Source {
        std::string layer, descriptor, file;
    };
    void runStep(size_t source, size_t classifier, int repeat);

    Options options_;
    std::vector<int> labels_;
    std::vector<std::string> names_;
    std::vector<Source> sources_;
    std::vector<Row> rows_;
    std::string splitHow_;
    std::int64_t next_ = 0;
    std::vector<double> accuracies_; ///< of the row being repeated
    torch::Tensor loaded_;           ///< the features of sources_[loadedSource_]
    size_t loadedSource_ = static_cast<size_t>(-1);
    bool allConverged_ = true;
};

} // namespace convscope
