#pragma once
// Class-level explanations of the current input: its top-5 predicted classes, each with a saliency map (gradient,
// guided backprop, deconvnet) or a Grad-CAM / guided Grad-CAM overlay on a chosen layer; signed maps in a
// diverging colormap or as the classic grey-centred image, unsigned maps normalised per map, an opacity slider for
// overlays. A sanity check (cascading re-initialisation, SanityCheck) shows which methods depend on the weights.
// Everything is computed on worker threads.
#include "jobs/JobLane.h"
#include "tiles/TileSet.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QToolButton;

namespace convscope {

class Reconstructor;
class TileGridView;
class Workspace;

class ExplainPanel : public QWidget {
    Q_OBJECT
public:
    enum Method { GradCam, GuidedGradCam, Guided, Gradient, Deconvnet };

    explicit ExplainPanel(Workspace *workspace, QWidget *parent = nullptr);
    ~ExplainPanel() override;

    TileGridView *maps() const { return maps_; }
    TileGridView *sanityView() const { return sanity_; }
    QComboBox *methodBox() const { return method_; }
    QComboBox *layerBox() const { return layer_; }
    QLabel *notes() const { return notes_; }
    /// Starts the sanity check of the current input and method set.
    void runSanityCheck();
    /// Exports the maps at `width` pixels (.png/.svg) or the raw maps (.npy: one per class). Throws UsageError.
    void exportTo(const QString &path, int width) const;
    /// Blocks until background work is done (tests).
    void waitForIdle()
    {
        mapsJobs_->waitForIdle();
        sanityJobs_->waitForIdle();
    }
    bool busy() const { return mapsJobs_->pending() + sanityJobs_->pending() > 0; }

Q_SIGNALS:
    /// Maps or the sanity figure were updated (tests).
    void updated();

private:
    void modelChanged();
    void refresh();
    void stopSanity();

    Workspace *workspace_;
    JobLane *mapsJobs_, *sanityJobs_;
    QComboBox *method_, *layer_, *display_;
    QSlider *opacity_;
    QPushButton *sanityButton_;
    QProgressBar *progress_;
    QToolButton *stop_;
    QLabel *notes_, *sanityNotes_;
    TileGridView *maps_, *sanity_;
    std::shared_ptr<const Reconstructor> reconstructor_;
    torch::Tensor raw_; ///< the maps shown, one per class
};

} // namespace convscope
