#include "jobs/Workspace.h"

#include "common/Error.h"
#include "data/Preprocessor.h"

#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <opencv2/imgproc.hpp>

namespace convscope {

namespace {

template <class T>
struct Outcome {
    std::optional<T> value;
    QString error;
};

QImage toQImage(const cv::Mat &fitted)
{
    cv::Mat u8;
    fitted.convertTo(u8, CV_8U, 255.0);
    if (u8.channels() == 1)
        return QImage(u8.data, u8.cols, u8.rows, static_cast<int>(u8.step), QImage::Format_Grayscale8).copy();
    return QImage(u8.data, u8.cols, u8.rows, static_cast<int>(u8.step), QImage::Format_RGB888).copy();
}

cv::Mat toMat(const QImage &image)
{
    QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat view(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar *>(rgb.constBits()),
                 static_cast<size_t>(rgb.bytesPerLine()));
    cv::Mat bgr;
    cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

} // namespace

Workspace::Workspace(QObject *parent) : QObject(parent) {}

Workspace::~Workspace()
{
    waitForIdle();
}

bool Workspace::busy() const
{
    for (const auto &[kind, running] : wanted_)
        if (running)
            return true;
    return false;
}

void Workspace::cancel()
{
    ++modelGeneration_;
    ++datasetGeneration_;
    ++inputGeneration_;
    wanted_.clear();
    Q_EMIT busyChanged(false, QString());
}

void Workspace::waitForIdle()
{
    while (pending_ > 0) {
        QThreadPool::globalInstance()->waitForDone(50);
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
}

template <class T>
void Workspace::launch(const QString &what, std::function<T()> work, std::function<void(T &)> done,
                       const quint64 *generation)
{
    const quint64 expected = *generation;
    auto *watcher = new QFutureWatcher<Outcome<T>>(this);
    ++pending_;
    wanted_[generation] = true;
    Q_EMIT busyChanged(true, what);
    connect(watcher, &QFutureWatcher<Outcome<T>>::finished, this, [=] {
        Outcome<T> outcome = watcher->result();
        watcher->deleteLater();
        --pending_;
        if (*generation == expected) { // not cancelled nor superseded
            wanted_[generation] = false;
            if (outcome.value)
                done(*outcome.value);
            else
                Q_EMIT failed(outcome.error);
        }
        Q_EMIT busyChanged(busy(), busy() ? what : QString());
    });
    watcher->setFuture(QtConcurrent::run([work]() -> Outcome<T> {
        Outcome<T> o;
        try {
            o.value = work();
        } catch (const Error &e) {
            o.error = QString::fromStdString(e.what());
        } catch (const std::exception &e) {
            o.error = QStringLiteral("unexpected error: ") + e.what();
        }
        return o;
    }));
}

void Workspace::openModel(const QString &path)
{
    ++modelGeneration_;
    launch<std::shared_ptr<const Model>>(
        tr("Loading model %1").arg(path), [path] { return Model::load(path.toStdString()); },
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
        },
        &modelGeneration_);
}

void Workspace::openDataset(const QString &path)
{
    datasetRequested_ = true;
    ++datasetGeneration_;
    launch<std::shared_ptr<const ImageSource>>(
        tr("Opening dataset %1").arg(path),
        [path]() -> std::shared_ptr<const ImageSource> { return ImageSource::open(path.toStdString()); },
        [this, path](std::shared_ptr<const ImageSource> &source) {
            dataset_ = source;
            datasetPath_ = path;
            Q_EMIT datasetChanged();
        },
        &datasetGeneration_);
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
    runInput([image, name] { return ImageReference{name.toStdString(), -1, toMat(image)}; });
}

void Workspace::runInput(std::function<ImageReference()> load)
{
    if (!model_)
        return;
    ++inputGeneration_;
    auto model = model_;
    launch<std::shared_ptr<InputResult>>(
        tr("Running the model"),
        [model, load] {
            ImageReference ref = load();
            Preprocessor pre(model->input());
            cv::Mat fitted = pre.fit(ref.image);
            torch::Tensor x = pre.normalise(fitted).unsqueeze(0);
            auto result = std::make_shared<InputResult>();
            result->name = QString::fromStdString(ref.name);
            result->label = ref.label;
            result->seen = toQImage(fitted);
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
        },
        &inputGeneration_);
}

} // namespace convscope
