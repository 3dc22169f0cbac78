#pragma once
// The state the desktop app works on — model, dataset, selected layer, current input — and the background work
// that fills it. Every model load, dataset opening and forward pass runs as a job of its own lane (JobLane); results
// come back as signals on the GUI thread. A newer request supersedes an older one of the same kind still running
// (its result is dropped). Only QImages cross threads; widgets make QPixmaps.
#include "data/ImageReference.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "model/Prediction.h"
#include "jobs/JobLane.h"

#include <QImage>
#include <QObject>
#include <QString>

#include <map>
#include <memory>
#include <vector>

namespace convscope {

/// Everything one input image yields: what the model sees, its predictions and every layer's output.
struct InputResult {
    QString name;                           ///< file name or DATASET#INDEX
    int label = -1;                         ///< dataset label when known
    QImage seen;                            ///< the preprocessed input before normalisation (model size)
    torch::Tensor rgb;                      ///< the same as 3×H×W float in [0, 1] (grey repeated)
    torch::Tensor tensor;                   ///< the model's input, 1×C×H×W, normalised
    std::vector<Prediction> predictions;    ///< top-5 (empty when the model has no class output)
    std::vector<torch::Tensor> activations; ///< by layer index (undefined for calls that cannot be captured)
};

class Workspace : public QObject {
    Q_OBJECT
public:
    explicit Workspace(QObject *parent = nullptr);
    ~Workspace() override;

    std::shared_ptr<const Model> model() const { return model_; }
    std::shared_ptr<const ImageSource> dataset() const { return dataset_; }
    QString modelPath() const { return modelPath_; }
    /// The current input as a file or DATASET#INDEX (empty for a pasted image or none).
    QString inputReference() const { return inputReference_; }
    QString datasetPath() const { return datasetPath_; }
    int layer() const { return layer_; }
    const InputResult *input() const { return input_.get(); }

    /// Starts loading; modelChanged() or failed() follows. The current input is re-run on the new model. When no
    /// dataset was ever asked for, the dataset named by the model's sidecar is opened too.
    void openModel(const QString &path);
    /// Starts opening a dataset (folder, idx file); datasetChanged() or failed() follows.
    void openDataset(const QString &path);
    /// Selects a layer by index into model()->layers(); emits layerChanged().
    void selectLayer(int index);
    /// Runs the model on an image file or "DATASET#INDEX"; inputChanged() or failed() follows.
    void setInput(const QString &reference);
    /// Runs the model on image `index` of the current dataset.
    void setInputFromDataset(std::int64_t index);
    /// Runs the model on an image already in memory (clipboard, drop).
    void setInputImage(const QImage &image, const QString &name);

    /// Drops the results of all running work (asked to stop; nothing it computes is applied).
    void cancel();
    /// Processes events until no background work is pending (tests, shutdown).
    void waitForIdle();
    /// True while work whose result is still wanted is running.
    bool busy() const;

Q_SIGNALS:
    void modelChanged();
    void datasetChanged();
    void layerChanged(int index);
    void inputChanged();
    void busyChanged(bool busy, const QString &what);
    void failed(const QString &message);

private:
    /// Starts `work` in `lane`; `done` gets its result on the GUI thread unless a newer job of the lane started.
    /// A failure becomes failed(message).
    template <class T>
    void launch(JobLane *lane, const QString &what, std::function<T()> work, std::function<void(T &)> done);
    void runInput(std::function<ImageReference()> load);
    void reportBusy();

    std::shared_ptr<const Model> model_;
    std::shared_ptr<const ImageSource> dataset_;
    QString modelPath_, datasetPath_, inputReference_, busyWhat_;
    int layer_ = -1;
    bool datasetRequested_ = false;
    std::unique_ptr<InputResult> input_;
    JobLane *modelJobs_, *datasetJobs_, *inputJobs_;
};

} // namespace convscope
