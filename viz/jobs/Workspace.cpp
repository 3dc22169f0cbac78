#include "jobs/Workspace.h"

#include "common/Error.h"
#include "data/Preprocessor.h"
#include "render/ImageConversion.h"

#include <QCoreApplication>

namespace convscope {

Workspace::Workspace(QObject *parent)
    : QObject(parent), modelJobs_(new JobLane(this)), datasetJobs_(new JobLane(this)), inputJobs_(new JobLane(this))
{
    for (JobLane *lane : {modelJobs_, datasetJobs_, inputJobs_})
        connect(lane, &JobLane::activeChanged, this, &Workspace::reportBusy);
    // Loading a model, opening a dataset or running the model on an input cannot stop midway, and their work
    // captures only values: closing the window leaves them to finish on the pool instead of waiting.
    for (JobLane *lane : {modelJobs_, datasetJobs_, inputJobs_})
        lane->setWaitOnDestroy(false);
}

Workspace::~Workspace() = default; // the lanes cancel their jobs and wait for them

bool Workspace::busy() const
{
    return modelJobs_->active() || datasetJobs_->active() || inputJobs_->active();
}

void Workspace::reportBusy()
{
    Q_EMIT busyChanged(busy(), busy() ? busyWhat_ : QString());
}

void Workspace::cancel()
{
    for (JobLane *lane : {modelJobs_, datasetJobs_, inputJobs_})
        lane->drop();
}

void Workspace::waitForIdle()
{
    while (modelJobs_->pending() + datasetJobs_->pending() + inputJobs_->pending() > 0)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

template <class T>
void Workspace::launch(JobLane *lane, const QString &what, std::function<T()> work, std::function<void(T &)> done)
{
    busyWhat_ = what;
    lane->run<T>(std::move(work), std::move(done), [this](const QString &message) { Q_EMIT failed(message); });
    reportBusy();
}

void Workspace::openModel(const QString &path)
{
    launch<std::shared_ptr<const Model>>(
        modelJobs_, tr("Loading model %1").arg(path), [path] { return Model::load(path.toStdString()); },
        [this, path](std::shared_ptr<const Model> &model) {
            model_ = model;
            modelPath_ = path;
            layer_ = -1;
            input_.reset();
            Q_EMIT modelChanged(); // listeners may select a layer (a restored session)
            if (layer_ < 0) // else start on the first conv layer: what a user opens a CNN for
                for (const auto &l : model_->layers())
                    if (l.kind == LayerKind::Conv) {
                        selectLayer(l.index);
                        break;
                    }
            if (!inputReference_.isEmpty())
                setInput(inputReference_);
            if (datasetPath_.isEmpty() && !datasetRequested_ && !model_->sidecar().dataset.empty())
                openDataset(QString::fromStdString(model_->sidecar().dataset));
        });
}

void Workspace::openDataset(const QString &path)
{
    datasetRequested_ = true;
    launch<std::shared_ptr<const ImageSource>>(
        datasetJobs_, tr("Opening dataset %1").arg(path),
        [path]() -> std::shared_ptr<const ImageSource> { return ImageSource::open(path.toStdString()); },
        [this, path](std::shared_ptr<const ImageSource> &source) {
            dataset_ = source;
            datasetPath_ = path;
            Q_EMIT datasetChanged();
        });
}

void Workspace::selectLayer(int index)
{
    if (!model_ || index < 0 || index >= static_cast<int>(model_->layers().size()) || index == layer_)
        return;
    layer_ = index;
    Q_EMIT layerChanged(index);
}

void Workspace::setInput(const QString &reference)
{
    inputReference_ = reference;
    runInput([reference] { return ImageReference::load(reference.toStdString()); });
}

void Workspace::setInputFromDataset(std::int64_t index)
{
    if (!dataset_)
        return;
    auto source = dataset_;
    inputReference_ = datasetPath_ + "#" + QString::number(index);
    runInput([source, index] {
        return ImageReference{source->name(index), source->label(index), source->image(index)};
    });
}

void Workspace::setInputImage(const QImage &image, const QString &name)
{
    inputReference_.clear();
    runInput([image, name] { return ImageReference{name.toStdString(), -1, ImageConversion::toMat(image)}; });
}

void Workspace::runInput(std::function<ImageReference()> load)
{
    if (!model_)
        return;
    auto model = model_;
    launch<std::shared_ptr<InputResult>>(
        inputJobs_, tr("Running the model"),
        [model, load] {
            ImageReference ref = load();
            Preprocessor pre(model->input());
            cv::Mat fitted = pre.fit(ref.image);
            torch::Tensor x = pre.normalise(fitted).unsqueeze(0);
            auto result = std::make_shared<InputResult>();
            result->name = QString::fromStdString(ref.name);
            result->label = ref.label;
            result->seen = ImageConversion::fromMat(fitted, ImageConversion::ChannelOrder::Rgb);
            result->rgb = Preprocessor::rgb(fitted);
            result->tensor = x;
            const auto which = model->probe().capturable();
            Probe::Output out = model->probe().run(x, which);
            result->activations.resize(model->layers().size());
            for (size_t k = 0; k < which.size(); ++k)
                result->activations[which[k]] = out.captured[k];
            if (model->numClasses() > 0)
                result->predictions = model->topK(Model::firstTensor(out.modelOutput), 5)[0];
            return result;
        },
        [this](std::shared_ptr<InputResult> &result) {
            input_ = std::make_unique<InputResult>(std::move(*result));
            Q_EMIT inputChanged();
        });
}

} // namespace convscope
