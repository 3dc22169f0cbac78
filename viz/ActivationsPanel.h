#pragma once
// The current input as the model sees it, its top-5 predictions, and the selected layer's activation maps (one
// tile per channel; click one to see it enlarged over the input).
#include "ActivationMaps.h"
#include "Workspace.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QSlider;
class QTableWidget;

namespace convscope {

class TileGridView;

class ActivationsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ActivationsPanel(Workspace *workspace, QWidget *parent = nullptr);
    TileGridView *grid() const { return grid_; }
    QTableWidget *predictions() const { return predictions_; }
    /// Exports the maps at `width` pixels (.png/.svg) or the raw activation (.npy). Throws IoError/UsageError.
    void exportTo(const QString &path, int width) const;

Q_SIGNALS:
    void openImageRequested();

private:
    void refreshInput();
    void refreshMaps();
    void showChannel(int tile);

    Workspace *workspace_;
    QLabel *input_, *inputCaption_, *overlay_, *mapsInfo_;
    QTableWidget *predictions_;
    QComboBox *order_, *scaling_;
    QSlider *opacity_;
    TileGridView *grid_;
    int channel_ = -1;
};

} // namespace convscope
