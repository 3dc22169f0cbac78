#pragma once
// Several models side by side on one labelled dataset, as in the lecture's architecture tables (MobileNet against
// VGG and GoogLeNet; accuracy against multiply-adds): per model its parameters and multiply-adds per image (as
// `convscope info` counts them), top-1/top-k accuracy on the dataset (as `convscope evaluate` computes it), speed at
// batch 1 and at a throughput batch, peak tensor memory, the receptive field of its last convolution, and where its
// multiply-adds go (depthwise, pointwise 1×1 and full convolutions, fully connected layers).
//
// Usage: ModelComparison c(models, dataset, options); while (!c.run(progress)) {}; c.rows();
// Steps: load each model (its costs, field and memory) — evaluate each on the dataset, one batch per step —
// timing rounds, one model per step, every model in each round (order reversed every other round) so that a noisy
// machine's drift treats all alike; the medians are reported. A model that does not load or run gives a row with its
// error; one that runs but does not fit the dataset (other classes) gives a row without accuracy and says why. The
// other rows are computed either way.
#include "model/ReceptiveField.h"

#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

class ImageSource;
class Model;
class Progress;
class AccuracyEvaluator;

class ModelComparison {
public:
    struct Options {
        std::int64_t limit = -1;      ///< evaluate on the first N images only (-1 = all)
        int evaluationBatch = 100;    ///< images per forward pass for accuracy (as `convscope evaluate`)
        int topK = 5;                 ///< the second accuracy column: label among the k best classes
        bool accuracy = true;         ///< evaluate on the dataset
        bool timing = true;           ///< measure speed
        int rounds = 5;               ///< timing rounds (medians over them)
        int singleRuns = 10;          ///< batch-1 forward passes per model and round
        int throughputBatch = 32;     ///< images per forward pass for images/s
        int throughputRuns = 2;       ///< throughput-batch forward passes per model and round
        std::string sidecar;          ///< sidecar for every model (empty: each model's own, found beside it)
    };

    /// Multiply-adds by kind of layer, as fractions of the model's total.
    struct Shares {
        double depthwise = 0;         ///< depthwise convolutions (one filter per input channel)
        double pointwise = 0;         ///< 1×1 convolutions
        double full = 0;              ///< every other convolution
        double fullyConnected = 0;    ///< linear layers
        double other = 0;             ///< the rest (transposed convolutions...)
    };

    struct Row {
        std::string path;             ///< the model file as given
        std::string name;             ///< the sidecar's name, else the file name
        std::string format;           ///< TorchScript or ONNX
        std::string error;            ///< why the model could not be loaded or run (the row holds no numbers then)
        std::string accuracyNote;     ///< why there is no accuracy although the model runs
        std::string throughputNote;   ///< why there is no throughput-batch column (the model runs only at batch 1)
        std::int64_t params = 0;      ///< parameters (as `convscope info`)
        std::int64_t macs = 0;        ///< multiply-adds per image at the model's input size (as `convscope info`)
        int classes = 0;
        int inputWidth = 0, inputHeight = 0, inputChannels = 0;
        std::int64_t evaluated = 0, labelled = 0;
        double top1 = NAN, topK = NAN;  ///< 0..1, NaN when not measured
        double msPerImage = NAN;        ///< median time of a batch-1 forward pass
        double imagesPerSecond = NAN;   ///< throughput batch over its median forward time
        std::int64_t weightBytes = 0;   ///< parameters and buffers
        std::int64_t peakBytes1 = 0;    ///< weights + the tensor memory peak of a batch-1 forward pass
        std::int64_t peakBytesBatch = 0; ///< the same at the throughput batch
        std::string lastConv;           ///< the last convolution in forward order (path), empty when none
        ReceptiveField lastConvField;
        Shares shares;
        bool ok() const { return error.empty(); }
    };

    /// Opens the dataset (IoError/DataError when it cannot be opened). Models are loaded by run().
    ModelComparison(std::vector<std::string> models, const std::string &dataset, Options options);
    ~ModelComparison();

    /// Runs the next step; true when every row is complete. Throws CancelledError when `progress` asks.
    bool run(Progress *progress = nullptr);
    const std::vector<Row> &rows() const { return rows_; }
    /// The loaded model of row `i` (null when it failed), e.g. to open it in a viewer.
    std::shared_ptr<const Model> model(size_t i) const;
    const std::string &datasetDescription() const { return datasetDescription_; }
    /// Fraction of the work done (0..1), for a progress bar across phases.
    double fraction() const;

    /// All of it at once.
    static std::vector<Row> compare(const std::vector<std::string> &models, const std::string &dataset,
                                    const Options &options, Progress *progress = nullptr);

    /// Multiply-add shares of a loaded model (from its cost categories).
    static Shares sharesOf(const Model &model);

private:
    enum class Phase { Load, Evaluate, Time, Done };
    void load(size_t i);
    bool evaluateStep(size_t i);
    void timeStep(size_t i);
    void finishTiming();
    void distinguishNames();
    int datasetClasses() const;

    std::vector<std::string> paths_;
    Options options_;
    std::unique_ptr<ImageSource> source_;
    std::string datasetDescription_;
    std::vector<Row> rows_;
    std::vector<std::shared_ptr<const Model>> models_;
    std::vector<torch::Tensor> singleInput_, batchInput_;        ///< per model: dataset images as it sees them
    std::vector<std::vector<double>> singleTimes_, batchTimes_; ///< seconds per forward pass, per model
    Phase phase_ = Phase::Load;
    size_t current_ = 0;              ///< model of the phase being worked on
    int round_ = 0;
    std::unique_ptr<AccuracyEvaluator> evaluator_;
    mutable int datasetClasses_ = -1;
};

} // namespace convscope
