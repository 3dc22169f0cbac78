#pragma once
// The current input as the model sees it, its top-5 predictions, and the selected layer's activation maps (one
// tile per channel; click one to see it enlarged over the input, and projected back to the input by deconvnet,
// guided backprop or the gradient — at the channel's strongest position, or where the user clicks in the enlarged
// map; full size or cropped to the unit's receptive field). Projections run on a worker thread.
#include "tiles/ActivationMaps.h"
#include "jobs/JobLane.h"
#include "jobs/Workspace.h"

#include <memory>

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTableWidget;

namespace convscope {

class Reconstructor;
class TileGridView;

class ActivationsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ActivationsPanel(Workspace *workspace, QWidget *parent = nullptr);
    TileGridView *grid() const { return grid_; }
    QTableWidget *predictions() const { return predictions_; }
    QComboBox *projectionMethod() const { return reconMethod_; }
    QLabel *projection() const { return recon_; }
    QLabel *projectionCaption() const { return reconCaption_; }
    /// Projects the shown channel at map position (y, x) of its layer; (-1, -1) = its strongest position.
    void projectAt(int y, int x);
    bool busy() const { return reconJobs_->pending() > 0; }
    void waitForIdle() { reconJobs_->waitForIdle(); }
    /// Exports the maps at `width` pixels (.png/.svg) or the raw activation (.npy). Throws IoError/UsageError.
    void exportTo(const QString &path, int width) const;

Q_SIGNALS:
    void openImageRequested();
    /// A projection was drawn or failed (tests).
    void projected();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void refreshInput();
    void refreshMaps();
    void showChannel(int tile);
    void refreshProjection();

    Workspace *workspace_;
    QLabel *input_, *inputCaption_, *overlay_, *mapsInfo_;
    QTableWidget *predictions_;
    QComboBox *order_, *scaling_;
    QSlider *opacity_;
    TileGridView *grid_;
    QComboBox *reconMethod_;
    QCheckBox *crop_;
    QLabel *recon_, *reconCaption_;
    JobLane *reconJobs_; ///< projections: a newer click supersedes the older one
    std::shared_ptr<const Reconstructor> reconstructor_;
    int channel_ = -1;
    int atY_ = -1, atX_ = -1;
};

} // namespace convscope
