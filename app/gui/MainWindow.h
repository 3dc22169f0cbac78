#pragma once
// The desktop window: layer tree (left), filters, activations, units and explanations (centre tabs), dataset browser (bottom), menus,
// drag-and-drop and session restore. Wiring only: state and work live in Workspace and the viz panels.
#include <QMainWindow>
#include <QSettings>

#include <functional>
#include <memory>

class QLabel;

namespace convscope {

class ActivationsPanel;
class ComparePanel;
class DatasetBrowser;
class EvolutionPanel;
class ExplainPanel;
class FiltersPanel;
class LayerTreePanel;
class MapPanel;
class MessageBar;
class SearchPanel;
class UnitsPanel;
class Workspace;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    /// The export dialogs' suggested file name: "MODEL-LAYER-VIEW.SUFFIX" (e.g. fashion_cnn-features.conv2-filters.png).
    QString suggestedExportName(const QString &view, const QString &suffix) const;
    /// `settings` holds the session and recent files (owned by the caller; must outlive the window).
    explicit MainWindow(QSettings *settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    Workspace *workspace() const { return workspace_; }
    FiltersPanel *filters() const { return filters_; }
    ActivationsPanel *activations() const { return activations_; }
    DatasetBrowser *datasets() const { return datasets_; }
    LayerTreePanel *layers() const { return layers_; }
    UnitsPanel *units() const { return units_; }
    ExplainPanel *explain() const { return explain_; }
    SearchPanel *search() const { return search_; }
    MapPanel *map() const { return map_; }
    /// Shows a centre tab by name: "filters", "activations", "units", "explain", "search", "map".
    void showTab(const QString &name);
    MessageBar *messages() const { return messages_; }
    /// The grid View ▸ Zoom acts on: the current tab's (filters, activations, a layer's units), else null.
    class TileGridView *shownGrid() const;
    /// The Compare window (created on first use by File ▸ Compare Models…), holding the open model and dataset.
    ComparePanel *compareWindow();
    /// The Feature Evolution window (File ▸ Feature Evolution…, or the Units tab's Evolution… button), holding the
    /// checkpoints of the open model and the open dataset.
    EvolutionPanel *evolutionWindow();
    /// Uses these checkpoint files (sorted by name, numbers as numbers) as the open model's training run and opens
    /// the last one. Errors go to the message bar.
    void openCheckpoints(const QStringList &files);

    /// Help ▸ Getting Started: what each tab answers, what to try first, the shortcuts (non-modal).
    class GuideDialog *showGuide();
    /// True on the first start, and later while the user has "Show this guide at start" ticked.
    bool guideWanted() const
    {
        return !settings_->value("guide/shown", false).toBool() || settings_->value("guide/showAtStart", false).toBool();
    }
    /// File ▸ Input Spec…: the open model's input spec with a preview of the current input; Save writes the
    /// sidecar and opens the model again. Null (and a message) without a model.
    class InputSpecDialog *showInputSpec();
    /// Opens a model and optionally a dataset (the sidecar's dataset when none is open or asked for).
    void open(const QString &model, const QString &dataset = {});
    /// Processes events until no background work is left and the grids are drawn (screenshots, tests), at most
    /// `timeoutMs`.
    void waitUntilSettled(int timeoutMs);
    /// Restores the last session; false when there is none (or its files are gone).
    bool restoreSession();

    /// Layer dock widths and dataset dock heights (pixels): the minimum a panel can squeeze them to and the default.
    static constexpr int kLayersMinimum = 250, kLayersDefault = 360;
    static constexpr int kDatasetMinimum = 150, kDatasetDefault = 190;

protected:
    void showEvent(QShowEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    /// 85 % of the screen's available area, at least 1280×800 (at most the whole area on smaller screens).
    QSize defaultWindowSize() const;
    void buildMenus();
    void openDropped(const QString &path);
    /// The status bar's format badge (and a note on folded batch norm) for an imported ONNX model.
    void showModelFormat();
    void addRecent(const QString &key, const QString &path);
    void exportView(bool activations);
    /// Asks for a file (`suggested` name, `filter`) and calls `write`; errors show in the message bar. `writtenOnReturn` false: `write` only
    /// starts the work and its panel reports the end.
    void exportTo(const QString &title, const QString &suggested, const QString &filter,
                  const std::function<void(const QString &)> &write,
                  bool writtenOnReturn = true);
    void saveSession();

    ComparePanel *compare_ = nullptr;
    EvolutionPanel *evolution_ = nullptr;
    QSettings *settings_;
    Workspace *workspace_;
    MessageBar *messages_;
    QLabel *modelFormat_; ///< permanent in the status bar: "ONNX · opset 13", with what that implies as tooltip
    LayerTreePanel *layers_;
    FiltersPanel *filters_;
    ActivationsPanel *activations_;
    DatasetBrowser *datasets_;
    UnitsPanel *units_;
    ExplainPanel *explain_;
    SearchPanel *search_;
    MapPanel *map_;
    class QTabWidget *tabs_;
    QString pendingLayer_;
    bool restoredLayout_ = false; ///< a saved dock layout was restored
    bool docksChecked_ = false; ///< the restored layout was checked at the first show
};

} // namespace convscope
