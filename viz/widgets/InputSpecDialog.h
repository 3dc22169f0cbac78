#pragma once
// Model ▸ Input Spec…: how the open model takes its input — size, resize mode, pixel range, mean/std, labels file —
// with where it comes from (its sidecar, or what Convscope assumes without one), a live preview of the current
// image as the model sees it, presets (torchvision/ImageNet, pixels in [0, 1], Caffe-style 0–255), and Save, which
// writes the sidecar next to the model (ModelSidecarWriter: other fields kept; `convscope input-spec` reads and
// writes the same file). The preview is computed on a worker.
#include "jobs/JobLane.h"
#include "model/InputSpec.h"

#include <QDialog>

#include <opencv2/core.hpp>

#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace convscope {

class Model;

class InputSpecDialog : public QDialog {
    Q_OBJECT
public:
    /// `inputReference`: the current input (a file or DATASET#INDEX, decoded on a worker for the preview; empty:
    /// no preview).
    InputSpecDialog(std::shared_ptr<const Model> model, const QString &inputReference, QWidget *parent = nullptr);

    /// The spec as the form shows it. Throws UsageError for a mean/std that is not a list of numbers.
    InputSpec spec() const;
    void setSpec(const InputSpec &spec);
    QString labelsFile() const;
    void setLabelsFile(const QString &path);
    /// Writes the sidecar now (the Save button does it on a worker); returns its path. Throws like
    /// ModelSidecarWriter::write.
    QString save();
    /// The preview as last drawn (tests).
    QImage preview() const { return preview_; }
    /// Blocks until the preview is drawn (tests).
    void waitForPreview();

    /// Refused while Save runs (its outcome would be lost).
    void reject() override;

protected:
    void closeEvent(QCloseEvent *event) override;

Q_SIGNALS:
    /// The sidecar was written (the model should be opened again to use it).
    void saved(const QString &sidecarPath);

private:
    void updatePreview();
    std::shared_ptr<const Model> model_;
    cv::Mat image_;
    QImage preview_;
    QLabel *source_, *previewLabel_, *error_;
    QSpinBox *width_, *height_, *resizeTo_;
    QComboBox *resize_, *range_, *order_;
    QLineEdit *mean_, *std_, *labels_;
    JobLane *loads_, *previews_, *saves_;
    bool saving_ = false;
};

} // namespace convscope
