#include "widgets/InputSpecDialog.h"

#include "common/Error.h"
#include "data/ImageReference.h"
#include "data/Preprocessor.h"
#include "model/Model.h"
#include "model/ModelSidecarWriter.h"
#include "render/ImageConversion.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace convscope {

namespace {

QString joined(const std::vector<float> &v)
{
    QStringList parts;
    for (float x : v)
        parts << QString::number(static_cast<double>(x), 'g', 6);
    return parts.join(", ");
}

std::vector<float> numbers(const QString &text, const char *what, int channels)
{
    std::vector<float> v;
    for (const QString &part : text.split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        v.push_back(part.trimmed().toFloat(&ok));
        if (!ok)
            throw UsageError(std::string(what) + ": '" + part.trimmed().toStdString() + "' is not a number");
    }
    if (v.size() == 1)
        v.assign(static_cast<size_t>(channels), v[0]);
    if (static_cast<int>(v.size()) != channels)
        throw UsageError(std::string(what) + " needs " + std::to_string(channels) + " value" +
                         (channels == 1 ? "" : "s (one per channel, or one for all)"));
    return v;
}

} // namespace

InputSpecDialog::InputSpecDialog(std::shared_ptr<const Model> model, const QString &inputReference, QWidget *parent)
    : QDialog(parent), model_(std::move(model)), source_(new QLabel),
      previewLabel_(new QLabel), error_(new QLabel), width_(new QSpinBox), height_(new QSpinBox),
      resizeTo_(new QSpinBox), resize_(new QComboBox), range_(new QComboBox), order_(new QComboBox), mean_(new QLineEdit),
      std_(new QLineEdit), labels_(new QLineEdit), loads_(new JobLane(this)), previews_(new JobLane(this)), saves_(new JobLane(this))
{
    setWindowTitle(tr("Input spec — %1").arg(QFileInfo(QString::fromStdString(model_->path())).fileName()));
    const ModelSidecar &sidecar = model_->sidecar();
    QString origin = sidecar.path.empty()
                         ? tr("<b>No sidecar:</b> Convscope assumes the values below. Check them against how the "
                              "model was trained, then Save to write <code>%1</code>.")
                               .arg(QFileInfo(QString::fromStdString(ModelSidecarWriter::pathFor(model_->path()))).fileName())
                         : tr("From <code>%1</code>.").arg(QString::fromStdString(sidecar.path).toHtmlEscaped());
    for (const std::string &note : sidecar.notes)
        origin += "<br>" + QString::fromStdString(note).toHtmlEscaped();
    source_->setText(origin);
    source_->setWordWrap(true);
    source_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    for (QSpinBox *s : {width_, height_, resizeTo_}) {
        s->setRange(1, 8192);
        s->setSuffix(tr(" px"));
    }
    resize_->addItem(tr("Centre crop (shorter side to …, then the centre)"), static_cast<int>(ResizePolicy::CenterCrop));
    resize_->addItem(tr("Stretch to the input size"), static_cast<int>(ResizePolicy::Stretch));
    resize_->addItem(tr("Pad (keep the aspect ratio, pad with the mean)"), static_cast<int>(ResizePolicy::Pad));
    range_->addItem(tr("[0, 1] (torchvision)"), 1.0);
    range_->addItem(tr("[0, 255] (Caffe-style)"), 255.0);
    order_->addItem(tr("RGB (torchvision and most frameworks)"), static_cast<int>(ChannelOrder::Rgb));
    order_->addItem(tr("BGR (Caffe, models trained on OpenCV-decoded images)"), static_cast<int>(ChannelOrder::Bgr));
    order_->setToolTip(model_->input().channels == 3
                           ? tr("The order of the colour planes the model takes; images are shown in RGB either way")
                           : tr("A 1-channel model has no channel order"));
    order_->setEnabled(model_->input().channels == 3);
    mean_->setToolTip(tr("Subtracted after scaling to the pixel range; one value per channel, in the channel order "
                         "above"));
    std_->setToolTip(tr("Divides after the mean; one value per channel, in the channel order above"));
    labels_->setPlaceholderText(model_->sidecar().labels.empty() ? tr("none: outputs read \"class N\"")
                                                                 : tr("%n names in the sidecar", nullptr,
                                                                      static_cast<int>(model_->sidecar().labels.size())));
    labels_->setToolTip(tr("A text file with one class name per line, in output order"));
    auto *browse = new QPushButton(tr("Browse…"));
    auto *labelsRow = new QHBoxLayout;
    labelsRow->addWidget(labels_, 1);
    labelsRow->addWidget(browse);

    auto *presets = new QComboBox;
    presets->addItem(tr("Presets…"));
    presets->addItem(tr("ImageNet (torchvision): 224, crop from 256, ImageNet mean/std"));
    presets->addItem(tr("Pixels in [0, 1], no normalisation"));
    presets->addItem(tr("Caffe-style: pixels 0–255 in BGR order, ImageNet mean, std 1"));

    auto *form = new QFormLayout;
    form->addRow(tr("Presets"), presets);
    auto *sizeRow = new QHBoxLayout;
    sizeRow->addWidget(width_);
    sizeRow->addWidget(new QLabel(QStringLiteral("×")));
    sizeRow->addWidget(height_);
    sizeRow->addWidget(new QLabel(tr("%n channel(s)", nullptr, model_->input().channels)));
    sizeRow->addStretch(1);
    form->addRow(tr("Input size"), sizeRow);
    form->addRow(tr("Resize"), resize_);
    form->addRow(tr("Shorter side"), resizeTo_);
    form->addRow(tr("Pixel range"), range_);
    form->addRow(tr("Channel order"), order_);
    form->addRow(tr("Mean"), mean_);
    form->addRow(tr("Std"), std_);
    form->addRow(tr("Labels file"), labelsRow);

    previewLabel_->setFixedSize(240, 240);
    previewLabel_->setAlignment(Qt::AlignCenter);
    previewLabel_->setFrameShape(QFrame::StyledPanel);
    previewLabel_->setToolTip(tr("The current input as the model sees it (before the mean and std), at its input size"));
    auto *previewBox = new QVBoxLayout;
    previewBox->addWidget(new QLabel(tr("<b>As the model sees it</b>")));
    previewBox->addWidget(previewLabel_);
    previewBox->addStretch(1);
    auto *columns = new QHBoxLayout;
    columns->addLayout(form, 1);
    columns->addLayout(previewBox);

    error_->setWordWrap(true);
    error_->setStyleSheet("color: #f28b82");
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(source_);
    layout->addLayout(columns);
    layout->addWidget(error_);
    layout->addWidget(buttons);

    setSpec(model_->input());
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, this, [this, buttons] {
        // Saving loads the model once with the new file (ResNet-50: a second or two): on a worker.
        InputSpec s;
        try {
            s = spec();
        } catch (const Error &e) {
            error_->setText(QString::fromStdString(e.what()));
            return;
        }
        buttons->setEnabled(false);
        saving_ = true; // closing now would drop the outcome of a file that is being written
        error_->setText(tr("Checking that the model takes this input…"));
        saves_->run<QString>(
            [model = model_->path(), s, labels = labelsFile().toStdString()] {
                return QString::fromStdString(ModelSidecarWriter::write(model, s, labels));
            },
            [this](QString &path) {
                saving_ = false;
                Q_EMIT saved(path);
                accept();
            },
            [this, buttons](const QString &message) {
                saving_ = false;
                buttons->setEnabled(true);
                error_->setText(message);
            });
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Labels file"),
                                                       QFileInfo(QString::fromStdString(model_->path())).path(),
                                                       tr("Text (*.txt);;All files (*)"));
        if (!f.isEmpty())
            labels_->setText(f);
    });
    connect(presets, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, presets](int i) {
        if (i <= 0)
            return;
        InputSpec s = model_->input(); // the form's size and resize stay; mean, std and range come from the preset
        s.width = width_->value();
        s.height = height_->value();
        s.resize = static_cast<ResizePolicy>(resize_->currentData().toInt());
        s.resizeTo = resizeTo_->value();
        const int c = s.channels;
        s.order = static_cast<ChannelOrder>(order_->currentData().toInt());
        if (i == 1) {
            s = InputSpec{};
            s.channels = c;
            if (c == 1)
                s.mean = {0.449f}, s.std = {0.226f};
        } else if (i == 2) {
            s.mean.assign(static_cast<size_t>(c), 0.f);
            s.std.assign(static_cast<size_t>(c), 1.f);
            s.range = 1;
        } else { // the ImageNet mean in 0–255, blue first as Caffe's models take it
            s.mean = c == 3 ? std::vector<float>{103.53f, 116.28f, 123.675f} : std::vector<float>{114.8f};
            s.std.assign(static_cast<size_t>(c), 1.f);
            s.range = 255;
            s.order = c == 3 ? ChannelOrder::Bgr : ChannelOrder::Rgb;
        }
        setSpec(s);
        const QSignalBlocker block(presets);
        presets->setCurrentIndex(0);
    });
    for (QSpinBox *s : {width_, height_, resizeTo_})
        connect(s, qOverload<int>(&QSpinBox::valueChanged), this, &InputSpecDialog::updatePreview);
    // The mean and std name colours: switching the order of the planes reverses them with it.
    connect(order_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        for (QLineEdit *e : {mean_, std_}) {
            try {
                std::vector<float> v = numbers(e->text(), "", 3);
                std::reverse(v.begin(), v.end());
                const QSignalBlocker block(e);
                e->setText(joined(v));
            } catch (const Error &) { // not three numbers yet: left as typed
            }
        }
    });
    for (QComboBox *c : {resize_, range_, order_})
        connect(c, qOverload<int>(&QComboBox::currentIndexChanged), this, &InputSpecDialog::updatePreview);
    for (QLineEdit *e : {mean_, std_})
        connect(e, &QLineEdit::textChanged, this, &InputSpecDialog::updatePreview);
    updatePreview();
    if (!inputReference.isEmpty()) {
        previewLabel_->setText(tr("Loading the input…"));
        loads_->run<cv::Mat>([reference = inputReference.toStdString()] { return ImageReference::load(reference).image; },
                             [this](cv::Mat &decoded) {
                                 image_ = decoded;
                                 updatePreview();
                             },
                             [this](const QString &message) { previewLabel_->setText(message); });
    }
}

InputSpec InputSpecDialog::spec() const
{
    InputSpec s = model_->input();
    s.width = width_->value();
    s.height = height_->value();
    s.resize = static_cast<ResizePolicy>(resize_->currentData().toInt());
    s.resizeTo = resizeTo_->value();
    s.range = static_cast<float>(range_->currentData().toDouble());
    s.order = s.channels == 3 ? static_cast<ChannelOrder>(order_->currentData().toInt()) : ChannelOrder::Rgb;
    s.mean = numbers(mean_->text(), "Mean", s.channels);
    s.std = numbers(std_->text(), "Std", s.channels);
    for (float x : s.std)
        if (!(x > 0))
            throw UsageError("Std values must be positive");
    return s;
}

void InputSpecDialog::setSpec(const InputSpec &s)
{
    const QSignalBlocker a(width_), b(height_), c(resizeTo_), d(resize_), e(range_), f(mean_), g(std_), h(order_);
    width_->setValue(s.width);
    height_->setValue(s.height);
    resizeTo_->setValue(s.resizeTo);
    resize_->setCurrentIndex(resize_->findData(static_cast<int>(s.resize)));
    int at = range_->findData(static_cast<double>(s.range));
    if (at < 0) { // a range other than 1 or 255 is kept as it is, not rounded to the nearest choice
        range_->addItem(tr("[0, %1] (from the sidecar)").arg(static_cast<double>(s.range)), static_cast<double>(s.range));
        at = range_->count() - 1;
    }
    range_->setCurrentIndex(at);
    order_->setCurrentIndex(order_->findData(static_cast<int>(s.order)));
    mean_->setText(joined(s.mean));
    std_->setText(joined(s.std));
    updatePreview();
}

void InputSpecDialog::reject()
{
    if (!saving_)
        QDialog::reject();
}

void InputSpecDialog::closeEvent(QCloseEvent *event)
{
    if (saving_)
        event->ignore();
    else
        QDialog::closeEvent(event);
}

QString InputSpecDialog::labelsFile() const
{
    return labels_->text().trimmed();
}

void InputSpecDialog::setLabelsFile(const QString &path)
{
    labels_->setText(path);
}

QString InputSpecDialog::save()
{
    const QString path = QString::fromStdString(
        ModelSidecarWriter::write(model_->path(), spec(), labelsFile().toStdString()));
    Q_EMIT saved(path);
    return path;
}

void InputSpecDialog::waitForPreview()
{
    loads_->waitForIdle();
    previews_->waitForIdle();
}

void InputSpecDialog::updatePreview()
{
    resizeTo_->setEnabled(resize_->currentData().toInt() == static_cast<int>(ResizePolicy::CenterCrop));
    InputSpec s;
    try {
        s = spec();
        error_->clear();
    } catch (const Error &e) {
        error_->setText(QString::fromStdString(e.what()));
        return;
    }
    if (image_.empty()) {
        previewLabel_->setText(tr("No input image"));
        return;
    }
    const cv::Mat image = image_;
    previews_->run<QImage>(
        [s, image] {
            const cv::Mat fitted = Preprocessor(s).fit(image);
            return ImageConversion::fromMat(fitted, ImageConversion::ChannelOrder::Rgb);
        },
        [this](QImage &seen) {
            preview_ = seen;
            const QSize room = previewLabel_->size() - QSize(4, 4);
            // Whole multiples keep the input's pixels visible; larger inputs are shrunk to fit.
            const int factor = std::max(1, std::min(room.width() / std::max(1, seen.width()), room.height() / std::max(1, seen.height())));
            QImage shown = factor > 1 ? seen.scaled(seen.size() * factor)
                                      : seen.scaled(room, Qt::KeepAspectRatio, Qt::SmoothTransformation);
            previewLabel_->setPixmap(QPixmap::fromImage(shown));
            previewLabel_->setToolTip(tr("The current input as the model sees it: %1×%2 pixels (before the mean and std)")
                                          .arg(seen.width())
                                          .arg(seen.height()));
        },
        [this](const QString &message) { error_->setText(message); });
}

} // namespace convscope
