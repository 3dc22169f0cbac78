#pragma once
// The dataset map tab: t-SNE of a layer's features (from the project's scan) drawn as a MapView that animates while
// the optimisation runs (in the background, with Stop); colour by label, prediction or correctness; a rectangle
// selection shows its images in a grid; a click opens an image as the input; a unit shown in the Units tab has its
// top images ringed on the map. Export: coordinates (CSV, .npy) and a poster PNG.
#include "JobRunner.h"

#include <QWidget>

#include <atomic>
#include <memory>

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace convscope {

class MapView;
class TileGridView;
class Workspace;

class MapPanel : public QWidget {
    Q_OBJECT
public:
    explicit MapPanel(Workspace *workspace, QWidget *parent = nullptr);
    ~MapPanel() override;

    /// Maps the chosen layer's features (in the background; the view animates).
    void startMap();
    void stop();
    /// Rings these dataset images on the map.
    void highlightImages(const std::vector<std::int64_t> &images);
    /// Writes the map: .csv (index,name,label,prediction,x,y), .npy (N×2), .png (poster at `width`) or .pbtxt
    /// (a TensorBoard-projector bundle in that file's folder).
    void exportTo(const QString &path, int width) const;

    MapView *view() const { return view_; }
    TileGridView *selection() const { return selectionGrid_; }
    QComboBox *layerBox() const { return layer_; }
    QComboBox *colourBox() const { return colour_; }
    QLabel *status() const { return status_; }
    /// Coordinate updates received while optimising (animation frames).
    int frames() const { return frames_; }
    bool busy() const { return jobs_->pending() > 0; }
    void waitForIdle() { jobs_->waitForIdle(); }

Q_SIGNALS:
    void openImage(const QString &reference);
    /// The map finished (tests).
    void finished();

private:
    struct Points;
    QString project() const;
    void refreshLayers();
    void applyColours();

    Workspace *workspace_;
    JobRunner *jobs_;
    QComboBox *layer_, *colour_;
    QSpinBox *perplexity_, *iterations_;
    QPushButton *run_, *stop_;
    QLabel *status_;
    MapView *view_;
    TileGridView *selectionGrid_;
    std::shared_ptr<Points> points_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    torch::Tensor coords_, features_; ///< the map, and the (PCA-reduced) features it was made from
    quint64 generation_ = 0;
    int frames_ = 0;
};

} // namespace convscope
