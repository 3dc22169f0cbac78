#include "panels/MapPanel.h"

#include "widgets/AppStyle.h"
#include "common/Error.h"
#include "data/ImageSource.h"
#include "render/MapPosterRenderer.h"
#include "widgets/MapView.h"
#include "common/NpyFile.h"
#include "data/Preprocessor.h"
#include "render/ImageConversion.h"
#include "render/ProjectorExport.h"
#include "scan/StoredScan.h"
#include "scan/ProjectStore.h"
#include "scan/Scan.h"
#include "widgets/TileGridView.h"
#include "jobs/Workspace.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineSeries>
#include <QStackedWidget>
#include <QValueAxis>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>

#include <torch/torch.h>

namespace convscope {

/// Everything the view needs per mapped image (prepared on the worker).
struct MapPanel::Points {
    std::vector<std::int64_t> images;       ///< dataset index per point
    std::vector<int> labels, predictions;   ///< −1 = unknown
    std::vector<QString> names;
    std::vector<QImage> thumbnails;
    std::vector<std::string> classes;
    std::string dataset, layer;
};


MapPanel::MapPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), jobs_(new JobLane(this)), exportJobs_(new JobLane(this)),
      layer_(new QComboBox),
      colour_(new QComboBox), method_(new QComboBox), perplexity_(new QSpinBox), iterations_(new QSpinBox),
      neighbours_(new QSpinBox), epochs_(new QSpinBox), pca_(new QSpinBox), minDist_(new QDoubleSpinBox),
      variance_(new QChartView),
      run_(new QPushButton(tr("Map"))), stop_(new QPushButton(tr("Stop"))), status_(new QLabel),
      view_(new MapView), selectionGrid_(new TileGridView)
{
    // The map's work uses `this` only inside post() calls, which run on the GUI thread and are dropped once the
    // lane is gone; the export works on a snapshot. Closing the tab need not wait for either (see JobLane).
    jobs_->setWaitOnDestroy(false);
    exportJobs_->setWaitOnDestroy(false);
    colour_->addItems({tr("Colour by label"), tr("Colour by prediction"), tr("Colour by correctness"),
                       tr("Colour by cluster")});
    colour_->setItemData(3, tr("k-means of the finished map (as many clusters as classes)"), Qt::ToolTipRole);
    method_->addItems({tr("t-SNE"), tr("UMAP")});
    method_->setToolTip(tr("t-SNE: finer local neighbourhoods · UMAP: faster, keeps more of the global layout"));
    const DatasetMap::Options defaults;
    neighbours_->setRange(2, 200);
    neighbours_->setValue(defaults.embedding.umap.neighbours);
    neighbours_->setPrefix(tr("neighbours "));
    minDist_->setRange(0, 1);
    minDist_->setSingleStep(0.05);
    minDist_->setValue(defaults.embedding.umap.minDist);
    minDist_->setPrefix(tr("min dist "));
    epochs_->setRange(0, 5000);
    epochs_->setValue(defaults.embedding.umap.epochs);
    epochs_->setSpecialValueText(tr("epochs auto"));
    epochs_->setPrefix(tr("epochs "));
    pca_->setRange(0, 1024);
    pca_->setValue(defaults.pca);
    pca_->setPrefix(tr("PCA "));
    pca_->setSpecialValueText(tr("no PCA"));
    pca_->setToolTip(tr("Principal components kept before the map (the chart shows the variance they explain)"));
    perplexity_->setRange(2, 500);
    perplexity_->setValue(static_cast<int>(defaults.embedding.tsne.perplexity));
    perplexity_->setPrefix(tr("perplexity "));
    iterations_->setRange(50, 10000);
    iterations_->setValue(defaults.embedding.tsne.iterations);
    iterations_->setPrefix(tr("iterations "));
    layer_->setToolTip(tr("The layer whose per-image features are mapped (those the scan kept)"));
    stop_->setEnabled(false);
    status_->setWordWrap(true);
    layOut();
    selectionGrid_->clear(tr("Nothing selected"));
    // How to use the map is a line under it, not a tooltip: a tooltip would cover the hover card of the point.
    showMethodOptions();
    connect(method_, qOverload<int>(&QComboBox::currentIndexChanged), this, &MapPanel::showMethodOptions);

    connect(run_, &QPushButton::clicked, this, &MapPanel::startMap);
    connect(stop_, &QPushButton::clicked, this, &MapPanel::stop);
    connect(colour_, qOverload<int>(&QComboBox::currentIndexChanged), this, &MapPanel::applyColours);
    connect(view_, &MapView::activated, this, [this](std::int64_t i) {
        if (points_ && i >= 0 && i < static_cast<std::int64_t>(points_->images.size()))
            Q_EMIT openImage(QString::fromStdString(points_->dataset) + "#" +
                             QString::number(points_->images[static_cast<size_t>(i)]));
    });
    connect(view_, &MapView::selected, this, [this](const std::vector<std::int64_t> &chosen) {
        if (!points_ || chosen.empty()) {
            selectionGrid_->clear(tr("Nothing selected"));
            return;
        }
        TileSet set;
        set.kind = TileValues::Color;
        std::vector<torch::Tensor> tiles;
        for (size_t k = 0; k < chosen.size() && k < 400; ++k) {
            tiles.push_back(ImageConversion::toTensor(points_->thumbnails[static_cast<size_t>(chosen[k])]));
            const int l = points_->labels[static_cast<size_t>(chosen[k])];
            set.captions.push_back(l >= 0 && l < static_cast<int>(points_->classes.size()) ? points_->classes[l] : "");
        }
        set.values = torch::stack(tiles);
        selectionGrid_->setTiles(set);
        status_->setText(tr("%1 images selected%2").arg(chosen.size()).arg(chosen.size() > 400 ? tr(" (first 400 shown)") : QString()));
    });
    connect(workspace_, &Workspace::modelChanged, this, &MapPanel::refreshLayers);
    connect(workspace_, &Workspace::datasetChanged, this, &MapPanel::refreshLayers);
    refreshLayers();
}

MapPanel::~MapPanel() = default; // the lane stops the map and waits for it

void MapPanel::layOut()
{
    auto *bar = new QHBoxLayout;
    bar->addWidget(method_);
    bar->addWidget(new QLabel(tr("of")));
    bar->addWidget(layer_);
    bar->addWidget(pca_);
    bar->addWidget(perplexity_);
    bar->addWidget(iterations_);
    bar->addWidget(neighbours_);
    bar->addWidget(minDist_);
    bar->addWidget(epochs_);
    bar->addWidget(run_);
    bar->addWidget(stop_);
    bar->addSpacing(12);
    bar->addWidget(colour_);
    bar->addStretch(1);
    auto *side = new QWidget;
    auto *sl = new QVBoxLayout(side);
    sl->setContentsMargins(0, 0, 0, 0);
    variance_->setMinimumHeight(170);
    variance_->setMaximumHeight(200);
    variance_->setRenderHint(QPainter::Antialiasing);
    AppStyle::clearChart(variance_, tr("PCA variance: appears with the map"));
    sl->addWidget(variance_);
    sl->addWidget(new QLabel(tr("<b>Selection</b> (Shift+drag: rectangle · Ctrl+drag: lasso)")));
    sl->addWidget(selectionGrid_, 1);
    auto *mapColumn = new QWidget;
    auto *ml = new QVBoxLayout(mapColumn);
    ml->setContentsMargins(0, 0, 0, 0);
    ml->addWidget(view_, 1);
    auto *hint = new QLabel(tr("Wheel: zoom · drag: pan · Shift+drag: rectangle · Ctrl+drag: lasso · click: open the image"));
    hint->setEnabled(false); // drawn dimmed
    hint->setWordWrap(true);
    ml->addWidget(hint);
    auto *split = new QSplitter;
    split->addWidget(mapColumn);
    split->addWidget(side);
    split->setSizes({800, 300});
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(status_);
    layout->addWidget(split, 1);
}

QString MapPanel::project() const
{
    if (workspace_->datasetPath().isEmpty())
        return {};
    return QString::fromStdString(StoredScan::defaultProjectDir(workspace_->datasetPath().toStdString()));
}

void MapPanel::refreshLayers()
{
    layer_->clear();
    auto model = workspace_->model();
    if (!model)
        return;
    for (const auto &f : Scan::defaultFeatures(*model)) {
        const std::string &path = model->layers()[static_cast<size_t>(f.layer)].path;
        layer_->addItem(QString::fromStdString(path + " (" + descriptorName(f.pooling) + ")"));
    }
    if (layer_->count())
        layer_->setCurrentIndex(layer_->count() - 1); // the last hidden fully connected layer
    status_->setText(tr("Map the dataset's images by a layer's features (needs a scan of the dataset)."));
}

void MapPanel::stop()
{
    jobs_->cancel();
}

DatasetMap::Options MapPanel::options() const
{
    const QString choice = layer_->currentText();
    DatasetMap::Options o;
    o.layer = choice.section(" (", 0, 0).toStdString();
    o.pooling = parseDescriptor(choice.section(" (", 1).chopped(1).toStdString());
    o.pca = pca_->value();
    o.embedding.method = method_->currentIndex() == 1 ? Embedder::Method::Umap : Embedder::Method::Tsne;
    o.embedding.tsne.perplexity = perplexity_->value();
    o.embedding.tsne.iterations = iterations_->value();
    o.embedding.umap.neighbours = neighbours_->value();
    o.embedding.umap.minDist = minDist_->value();
    o.embedding.umap.epochs = epochs_->value();
    if (auto model = workspace_->model())
        o.clusters = std::max(2, static_cast<int>(model->numClasses())); // "colour by cluster": one per class
    return o;
}

void MapPanel::startMap()
{
    const QString dir = project();
    auto model = workspace_->model();
    if (dir.isEmpty() || !model || layer_->currentText().isEmpty())
        return;
    const DatasetMap::Options o = options();
    methodTitle_ = method_->currentText();
    frames_ = 0;
    run_->setEnabled(false);
    stop_->setEnabled(true);
    status_->setText(tr("Reading features and thumbnails…"));
    using CoordsAndClusters = std::pair<torch::Tensor, torch::Tensor>;
    JobHandlers<CoordsAndClusters> on;
    on.done = [this](CoordsAndClusters &map) {
        clusters_ = map.second;
        mapFinished(map.first);
    };
    on.cancelled = [this] { mapStopped(tr("Stopped.")); };
    on.failed = [this](const JobError &e) { mapStopped(e.message); };
    // Points, the PCA curve and every frame reach the GUI thread through the job, so a superseded map draws nothing.
    jobs_->start<CoordsAndClusters>(
        [this, dir, model, o, title = methodTitle_](JobContext &job) {
            DatasetMap map(dir.toStdString(), o, &job);
            auto points = std::make_shared<Points>();
            points->dataset = map.source().scan.dataset;
            points->layer = map.source().layer;
            auto source = ImageSource::open(points->dataset);
            ProjectStore store(dir.toStdString());
            const Preprocessor pre(model->input());
            for (int c = 0; c < model->numClasses(); ++c)
                points->classes.push_back(model->label(c));
            for (const std::int64_t i : map.images()) {
                if (job.cancelled())
                    throw CancelledError();
                const auto row = store.image(map.source().scan.id, i);
                points->images.push_back(i);
                points->labels.push_back(row.label);
                points->predictions.push_back(row.predicted);
                points->names.push_back(QString::fromStdString(row.name));
                points->thumbnails.push_back(ImageConversion::fromTensor(Preprocessor::rgb(pre.fit(source->image(i)))));
            }
            const torch::Tensor features = map.reduced();
            job.post([this, points, features, curve = map.pipeline().explainedVariance(),
                      kept = map.pipeline().outputDims(), title] {
                points_ = points;
                features_ = features;
                clusters_ = torch::Tensor();
                applyColours();
                showVariance(curve, kept);
                status_->setText(tr("%1: neighbour graph of %2 images…").arg(title).arg(points->images.size()));
            });
            const QString unit = o.embedding.method == Embedder::Method::Umap ? tr("epoch") : tr("iteration");
            while (map.run(o.embedding.method == Embedder::Method::Umap ? 5 : 10)) {
                if (job.cancelled())
                    throw CancelledError();
                job.post([this, coords = map.embedding(), it = map.step(), total = map.steps(), title, unit] {
                    coords_ = coords;
                    view_->setCoordinates(coords);
                    ++frames_;
                    status_->setText(tr("%1: %2 %3 of %4").arg(title, unit).arg(it).arg(total));
                });
            }
            return CoordsAndClusters{map.embedding(), map.clusters()};
        },
        on);
}

void MapPanel::mapFinished(const torch::Tensor &coords)
{
    applyColours();
    coords_ = coords;
    view_->setCoordinates(coords);
    run_->setEnabled(true);
    stop_->setEnabled(false);
    status_->setText(tr("%3 map of %1 images of %2 · wheel to zoom in to the thumbnails, Shift+drag or "
                        "Ctrl+drag to select")
                         .arg(coords.size(0))
                         .arg(points_ ? QString::fromStdString(points_->layer) : QString())
                         .arg(methodTitle_));
    Q_EMIT finished();
}

void MapPanel::mapStopped(const QString &message)
{
    run_->setEnabled(true);
    stop_->setEnabled(false);
    status_->setText(message);
    Q_EMIT finished();
}

void MapPanel::applyColours()
{
    if (!points_)
        return;
    int how = colour_->currentIndex();
    const bool clustered = clusters_.defined() && clusters_.size(0) == static_cast<std::int64_t>(points_->images.size());
    if (how == 3 && !clustered)
        how = 0; // clusters come with the finished map
    std::vector<QColor> colours;
    std::vector<QString> captions;
    for (size_t i = 0; i < points_->images.size(); ++i) {
        const int l = points_->labels[i], pr = points_->predictions[i];
        colours.push_back(how == 0   ? MapPosterRenderer::classColour(l)
                          : how == 1 ? MapPosterRenderer::classColour(pr)
                          : how == 3 ? MapPosterRenderer::classColour(static_cast<int>(clusters_[static_cast<std::int64_t>(i)].item<std::int64_t>()))
                          : l < 0 || pr < 0 ? QColor(150, 150, 150)
                          : l == pr ? QColor(0x59, 0xa1, 0x4f)
                                    : QColor(0xe1, 0x57, 0x59));
        auto name = [&](int c) {
            return c >= 0 && c < static_cast<int>(points_->classes.size()) ? QString::fromStdString(points_->classes[c])
                                                                             : QString("-");
        };
        captions.push_back(tr("%1\nlabel: %2\nprediction: %3").arg(points_->names[i], name(l), name(pr)));
    }
    std::vector<std::pair<QString, QColor>> legend;
    if (how == 2) {
        legend = {{tr("correct"), QColor(0x59, 0xa1, 0x4f)}, {tr("wrong"), QColor(0xe1, 0x57, 0x59)}};
    } else if (how == 3) {
        const torch::Tensor sizes = torch::bincount(clusters_);
        for (std::int64_t c = 0; c < sizes.size(0); ++c)
            legend.push_back({tr("cluster %1 (%2 images)").arg(c + 1).arg(sizes[c].item<std::int64_t>()),
                              MapPosterRenderer::classColour(static_cast<int>(c))});
    } else
        for (size_t c = 0; c < points_->classes.size(); ++c)
            legend.push_back({QString::fromStdString(points_->classes[c]), MapPosterRenderer::classColour(static_cast<int>(c))});
    view_->setPoints(colours, captions, points_->thumbnails);
    view_->setLegend(legend);
}

void MapPanel::showMethodOptions()
{
    const bool umap = method_->currentIndex() == 1;
    perplexity_->setVisible(!umap);
    iterations_->setVisible(!umap);
    neighbours_->setVisible(umap);
    minDist_->setVisible(umap);
    epochs_->setVisible(umap);
}

void MapPanel::showVariance(const torch::Tensor &cumulative, std::int64_t kept)
{
    auto *chart = new QChart;
    chart->setTheme(QChart::ChartThemeDark); // first: a theme resets fonts
    auto *curve = new QLineSeries;
    curve->setName(tr("PCA: variance explained"));
    const torch::Tensor c = cumulative.to(torch::kFloat64).contiguous();
    curve->append(0, 0);
    for (std::int64_t i = 0; i < c.numel(); ++i)
        curve->append(static_cast<double>(i + 1), c[i].item<double>());
    chart->addSeries(curve);
    auto *marker = new QLineSeries;
    const double at = kept > 0 ? static_cast<double>(kept) : static_cast<double>(c.numel());
    const double share = c.numel() ? c[std::min<std::int64_t>(static_cast<std::int64_t>(at), c.numel()) - 1].item<double>() : 0;
    marker->setName(kept > 0 ? tr("%1 kept: %2%").arg(kept).arg(share * 100, 0, 'f', 1) : tr("no PCA"));
    marker->append(at, 0);
    marker->append(at, 1);
    chart->addSeries(marker);
    auto *x = new QValueAxis;
    x->setRange(0, std::max<double>(1, static_cast<double>(c.numel())));
    x->setLabelFormat("%d");
    x->setTickCount(5);
    auto *y = new QValueAxis;
    y->setRange(0, 1);
    y->setLabelFormat("%.1f");
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (auto *series : {curve, marker}) {
        series->attachAxis(x);
        series->attachAxis(y);
    }
    QFont small = x->labelsFont();
    small.setPixelSize(9);
    x->setLabelsFont(small);
    y->setLabelsFont(small);
    chart->legend()->setFont(small);
    chart->setMargins(QMargins(0, 0, 0, 0));
    QChart *old = variance_->chart();
    variance_->setChart(chart);
    delete old;
}

void MapPanel::highlightImages(const std::vector<std::int64_t> &images)
{
    if (!points_)
        return;
    std::vector<std::int64_t> rings;
    for (std::int64_t img : images) {
        const auto it = std::lower_bound(points_->images.begin(), points_->images.end(), img);
        if (it != points_->images.end() && *it == img)
            rings.push_back(it - points_->images.begin());
    }
    view_->setHighlighted(rings);
}

void MapPanel::exportTo(const QString &path, int width)
{
    if (!points_ || !coords_.defined() || coords_.size(0) != static_cast<std::int64_t>(points_->images.size()))
        throw UsageError("there is no finished map to export yet");
    // The file is written on a worker from a snapshot of the map (a 70,000-thumbnail poster takes seconds).
    JobHandlers<bool> on;
    on.done = [this, path](bool &) {
        status_->setText(tr("Wrote %1").arg(path));
        Q_EMIT exported(path, {});
    };
    on.failed = [this, path](const JobError &e) {
        status_->setText(tr("Could not export the map: %1").arg(e.message));
        Q_EMIT exported(path, e.message);
    };
    exportJobs_->start<bool>(
        [points = points_, coords = coords_, features = features_, title = methodTitle_, path, width](JobContext &) {
            writeMap(path, width, *points, coords, features, title);
            return true;
        },
        on);
}

void MapPanel::writeMap(const QString &path, int width, const Points &points, const torch::Tensor &coords,
                        const torch::Tensor &features, const QString &methodTitle)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "pbtxt") { // a TensorBoard-projector bundle in that file's folder
        std::vector<ProjectorExport::Item> items;
        for (size_t i = 0; i < points.images.size(); ++i) {
            auto name = [&](int c) {
                return c >= 0 && c < static_cast<int>(points.classes.size()) ? points.classes[static_cast<size_t>(c)]
                                                                               : std::string();
            };
            items.push_back({points.images[i], points.names[i].toStdString(), name(points.labels[i]),
                             name(points.predictions[i])});
        }
        ProjectorExport::write(QFileInfo(path).absolutePath(), points.layer, features, coords, items,
                               [&points](std::int64_t i) { return points.thumbnails[static_cast<size_t>(i)]; });
    } else if (suffix == "npy") {
        NpyFile::write(path.toStdString(), coords);
    } else if (suffix == "csv") {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw IoError("cannot write '" + path.toStdString() + "': " + f.errorString().toStdString());
        QTextStream s(&f);
        s << "index,name,label,prediction,x,y\n";
        const torch::Tensor floats = coords.to(torch::kFloat32).contiguous();
        const auto xy = floats.accessor<float, 2>();
        for (size_t i = 0; i < points.images.size(); ++i)
            s << points.images[i] << ',' << QString(points.names[i]).replace(',', ' ') << ',' << points.labels[i]
              << ',' << points.predictions[i] << ',' << xy[static_cast<std::int64_t>(i)][0] << ','
              << xy[static_cast<std::int64_t>(i)][1] << '\n';
    } else {
        MapPosterRenderer::Options o;
        o.width = width;
        o.title = QString("%1 of %2").arg(methodTitle, QString::fromStdString(points.layer));
        const QImage poster = MapPosterRenderer::render(
            coords,
            [&points](std::int64_t i) { return ImageConversion::toTensor(points.thumbnails[static_cast<size_t>(i)]); },
            points.labels, points.classes, o);
        if (!poster.save(path))
            throw IoError("cannot write '" + path.toStdString() + "'");
    }
}

} // namespace convscope
