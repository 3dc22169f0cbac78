#include "panels/MapPanel.h"

#include "search/DescriptorIndex.h"
#include "search/DescriptorPipeline.h"
#include "common/Error.h"
#include "data/ImageSource.h"
#include "render/MapPosterRenderer.h"
#include "widgets/MapView.h"
#include "common/NpyFile.h"
#include "data/Preprocessor.h"
#include "render/ProjectorExport.h"
#include "scan/ProjectStore.h"
#include "scan/Scan.h"
#include "scan/StoredScan.h"
#include "widgets/TileGridView.h"
#include "map/Embedder.h"
#include "map/KMeans.h"
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
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>

#include <opencv2/imgproc.hpp>
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

namespace {

/// What a finished map run hands to the GUI thread.
struct MapResult {
    torch::Tensor coords, features, clusters;
};

QImage thumbnailOf(const torch::Tensor &rgb)
{
    const torch::Tensor t = (rgb.clamp(0, 1) * 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
    return QImage(t.data_ptr<std::uint8_t>(), static_cast<int>(t.size(1)), static_cast<int>(t.size(0)),
                  static_cast<int>(t.size(1) * 3), QImage::Format_RGB888)
        .copy();
}

/// The inverse: a thumbnail as 3×h×w floats in [0, 1] (grids and posters take tensors).
torch::Tensor tensorOf(const QImage &thumbnail)
{
    const QImage img = thumbnail.convertToFormat(QImage::Format_RGB888);
    return torch::from_blob(const_cast<uchar *>(img.constBits()), {img.height(), img.width(), 3},
                            {img.bytesPerLine(), 3, 1}, torch::kUInt8)
        .permute({2, 0, 1})
        .to(torch::kFloat32)
        .div(255);
}

} // namespace

MapPanel::MapPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), jobs_(new JobRunner(this)), layer_(new QComboBox),
      colour_(new QComboBox), method_(new QComboBox), perplexity_(new QSpinBox), iterations_(new QSpinBox),
      neighbours_(new QSpinBox), epochs_(new QSpinBox), pca_(new QSpinBox), minDist_(new QDoubleSpinBox),
      variance_(new QChartView),
      run_(new QPushButton(tr("Map"))), stop_(new QPushButton(tr("Stop"))), status_(new QLabel),
      view_(new MapView), selectionGrid_(new TileGridView)
{
    colour_->addItems({tr("Colour by label"), tr("Colour by prediction"), tr("Colour by correctness"),
                       tr("Colour by cluster")});
    colour_->setItemData(3, tr("k-means of the finished map (as many clusters as classes)"), Qt::ToolTipRole);
    method_->addItems({tr("t-SNE"), tr("UMAP")});
    method_->setToolTip(tr("t-SNE: finer local neighbourhoods · UMAP: faster, keeps more of the global layout"));
    neighbours_->setRange(2, 200);
    neighbours_->setValue(15);
    neighbours_->setPrefix(tr("neighbours "));
    minDist_->setRange(0, 1);
    minDist_->setSingleStep(0.05);
    minDist_->setValue(0.1);
    minDist_->setPrefix(tr("min dist "));
    epochs_->setRange(0, 5000);
    epochs_->setValue(0);
    epochs_->setSpecialValueText(tr("epochs auto"));
    epochs_->setPrefix(tr("epochs "));
    pca_->setRange(0, 1024);
    pca_->setValue(50);
    pca_->setPrefix(tr("PCA "));
    pca_->setSpecialValueText(tr("no PCA"));
    pca_->setToolTip(tr("Principal components kept before the map (the chart shows the variance they explain)"));
    perplexity_->setRange(2, 500);
    perplexity_->setValue(30);
    perplexity_->setPrefix(tr("perplexity "));
    iterations_->setRange(50, 10000);
    iterations_->setValue(750);
    iterations_->setPrefix(tr("iterations "));
    layer_->setToolTip(tr("The layer whose per-image features are mapped (those the scan kept)"));
    stop_->setEnabled(false);
    status_->setWordWrap(true);
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
    sl->addWidget(variance_);
    sl->addWidget(new QLabel(tr("<b>Selection</b> (Shift+drag: rectangle · Ctrl+drag: lasso)")));
    sl->addWidget(selectionGrid_, 1);
    auto *split = new QSplitter;
    split->addWidget(view_);
    split->addWidget(side);
    split->setSizes({800, 300});
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(status_);
    layout->addWidget(split, 1);
    selectionGrid_->clear(tr("Nothing selected"));
    view_->setToolTip(tr("Wheel: zoom · drag: pan · Shift+drag: rectangle · Ctrl+drag: lasso · click: open the image"));
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
            tiles.push_back(tensorOf(points_->thumbnails[static_cast<size_t>(chosen[k])]));
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

MapPanel::~MapPanel()
{
    stop();
    jobs_->waitForIdle();
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
        const std::string pooling = f.pooling == Scan::Feature::Pooling::Max ? "mac"
                                    : f.pooling == Scan::Feature::Pooling::Average ? "spoc" : "fc";
        layer_->addItem(QString::fromStdString(model->layers()[static_cast<size_t>(f.layer)].path + " (" + pooling + ")"));
    }
    if (layer_->count())
        layer_->setCurrentIndex(layer_->count() - 1); // the last hidden fully connected layer
    status_->setText(tr("Map the dataset's images by a layer's features (needs a scan of the dataset)."));
}

void MapPanel::stop()
{
    if (cancel_)
        cancel_->store(true);
}

void MapPanel::startMap()
{
    const QString dir = project();
    auto model = workspace_->model();
    if (dir.isEmpty() || !model || layer_->currentText().isEmpty())
        return;
    stop();
    const QString choice = layer_->currentText();
    const std::string layer = choice.section(" (", 0, 0).toStdString();
    const auto pooling = DescriptorIndex::parsePooling(choice.section(" (", 1).chopped(1).toStdString());
    Embedder::Options eo;
    eo.method = method_->currentIndex() == 1 ? Embedder::Method::Umap : Embedder::Method::Tsne;
    eo.tsne.perplexity = perplexity_->value();
    eo.tsne.iterations = iterations_->value();
    eo.umap.neighbours = neighbours_->value();
    eo.umap.minDist = minDist_->value();
    eo.umap.epochs = epochs_->value();
    const int pcaDims = pca_->value();
    const QString title = method_->currentText();
    methodTitle_ = title;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    cancel_ = cancel;
    const quint64 mine = generation_ + 1;
    frames_ = 0;
    QPointer<MapPanel> self(this);
    // Frames and the prepared points reach the GUI thread as queued calls, dropped once a newer map started.
    auto post = [self, mine](std::function<void(MapPanel &)> apply) {
        if (!self)
            return;
        QMetaObject::invokeMethod(
            self.data(),
            [self, mine, apply] {
                if (self && self->generation_ == mine)
                    apply(*self);
            },
            Qt::QueuedConnection);
    };
    run_->setEnabled(false);
    stop_->setEnabled(true);
    status_->setText(tr("Reading features and thumbnails…"));
    jobs_->run<MapResult>(
        generation_,
        [dir, model, layer, pooling, eo, pcaDims, title, cancel, post]() {
            const auto src = DescriptorIndex::features(dir.toStdString(), layer, pooling);
            torch::Tensor raw = NpyFile::read(src.file).to(torch::kFloat32);
            const torch::Tensor keep = raw.isnan().any(1).logical_not().nonzero().flatten();
            raw = raw.index_select(0, keep);
            auto points = std::make_shared<Points>();
            points->dataset = src.scan.dataset;
            points->layer = src.layer;
            auto source = ImageSource::open(src.scan.dataset);
            ProjectStore store(dir.toStdString());
            const Preprocessor pre(model->input());
            for (int c = 0; c < model->numClasses(); ++c)
                points->classes.push_back(model->label(c));
            for (std::int64_t k = 0; k < keep.numel(); ++k) {
                if (cancel->load())
                    throw CancelledError();
                const std::int64_t i = keep[k].item<std::int64_t>();
                const auto row = store.image(src.scan.id, i);
                points->images.push_back(i);
                points->labels.push_back(row.label);
                points->predictions.push_back(row.predicted);
                points->names.push_back(QString::fromStdString(row.name));
                points->thumbnails.push_back(thumbnailOf(Preprocessor::rgb(pre.fit(source->image(i)))));
            }
            post([points](MapPanel &panel) {
                panel.points_ = points;
                panel.applyColours();
                panel.status_->setText(QObject::tr("Optimising the map of %1 images…").arg(points->images.size()));
            });
            DescriptorPipeline::Options po;
            po.pca = pcaDims;
            po.renormalise = false;
            DescriptorPipeline pipeline(po);
            pipeline.fit(raw);
            const torch::Tensor reduced = pipeline.transform(raw);
            post([curve = pipeline.explainedVariance(), kept = pipeline.outputDims()](MapPanel &panel) {
                panel.showVariance(curve, kept);
            });
            post([title, n = reduced.size(0)](MapPanel &panel) {
                panel.status_->setText(QObject::tr("%1: neighbour graph of %2 images…").arg(title).arg(n));
            });
            auto embedder = Embedder::create(reduced, eo);
            const QString unit = eo.method == Embedder::Method::Umap ? QObject::tr("epoch") : QObject::tr("iteration");
            while (!embedder->done()) {
                if (cancel->load())
                    throw CancelledError();
                embedder->run(eo.method == Embedder::Method::Umap ? 5 : 10);
                post([coords = embedder->embedding(), it = embedder->step(), total = embedder->steps(), title,
                      unit](MapPanel &panel) {
                    panel.coords_ = coords;
                    panel.view_->setCoordinates(coords);
                    ++panel.frames_;
                    panel.status_->setText(QObject::tr("%1: %2 %3 of %4").arg(title, unit).arg(it).arg(total));
                });
            }
            MapResult result;
            result.coords = embedder->embedding();
            result.features = reduced;
            KMeans::Options ko;
            ko.k = std::max(2, static_cast<int>(model->numClasses()));
            result.clusters = KMeans::cluster(result.coords, ko);
            return result;
        },
        [this](MapResult &result) {
            const torch::Tensor coords = result.coords;
            features_ = result.features;
            clusters_ = result.clusters;
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
        },
        [this](const QString &message) {
            run_->setEnabled(true);
            stop_->setEnabled(false);
            status_->setText(message == "cancelled" ? tr("Stopped.") : message);
            Q_EMIT finished();
        });
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

void MapPanel::exportTo(const QString &path, int width) const
{
    if (!points_ || !coords_.defined() || coords_.size(0) != static_cast<std::int64_t>(points_->images.size()))
        throw UsageError("there is no finished map to export yet");
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "pbtxt") { // a TensorBoard-projector bundle in that file's folder
        std::vector<ProjectorExport::Item> items;
        for (size_t i = 0; i < points_->images.size(); ++i) {
            auto name = [&](int c) {
                return c >= 0 && c < static_cast<int>(points_->classes.size()) ? points_->classes[static_cast<size_t>(c)]
                                                                                 : std::string();
            };
            items.push_back({points_->images[i], points_->names[i].toStdString(), name(points_->labels[i]),
                             name(points_->predictions[i])});
        }
        const auto points = points_;
        ProjectorExport::write(QFileInfo(path).absolutePath(), points_->layer, features_, coords_, items,
                               [points](std::int64_t i) { return points->thumbnails[static_cast<size_t>(i)]; });
    } else if (suffix == "npy") {
        NpyFile::write(path.toStdString(), coords_);
    } else if (suffix == "csv") {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw IoError("cannot write '" + path.toStdString() + "': " + f.errorString().toStdString());
        QTextStream s(&f);
        s << "index,name,label,prediction,x,y\n";
        for (size_t i = 0; i < points_->images.size(); ++i)
            s << points_->images[i] << ',' << QString(points_->names[i]).replace(',', ' ') << ',' << points_->labels[i]
              << ',' << points_->predictions[i] << ',' << coords_[static_cast<std::int64_t>(i)][0].item<float>() << ','
              << coords_[static_cast<std::int64_t>(i)][1].item<float>() << '\n';
    } else {
        MapPosterRenderer::Options o;
        o.width = width;
        o.title = QString("%1 of %2").arg(methodTitle_, QString::fromStdString(points_->layer));
        const auto points = points_;
        const QImage poster = MapPosterRenderer::render(
            coords_,
            [points](std::int64_t i) { return tensorOf(points->thumbnails[static_cast<size_t>(i)]); },
            points_->labels, points_->classes, o);
        if (!poster.save(path))
            throw IoError("cannot write '" + path.toStdString() + "'");
    }
}

} // namespace convscope
