#include "widgets/DatasetModel.h"

#include <QFileInfo>

#include "render/ImageConversion.h"

#include <QPainter>
#include <QPixmap>
#include <QThreadPool>

#include <opencv2/imgproc.hpp>

namespace convscope {

namespace {
constexpr std::int64_t batchRows = 2000;

QImage thumbnail(const cv::Mat &decoded, int size)
{
    cv::Mat img;
    const double scale = double(size) / std::max(decoded.cols, decoded.rows);
    cv::resize(decoded, img, cv::Size(std::max(1, int(decoded.cols * scale)), std::max(1, int(decoded.rows * scale))),
               0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_NEAREST);
    return ImageConversion::fromMat(img, ImageConversion::ChannelOrder::Bgr);
}

/// The tile of an image that cannot be used: dark red with a cross (the tooltip says why).
QImage unusableTile(int size)
{
    QImage img(size, size, QImage::Format_RGB32);
    img.fill(QColor(90, 30, 30));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(230, 120, 110), 3));
    const int m = size / 4;
    p.drawLine(m, m, size - m, size - m);
    p.drawLine(size - m, m, m, size - m);
    return img;
}
} // namespace

DatasetModel::DatasetModel(QObject *parent) : QAbstractListModel(parent) {}

DatasetModel::~DatasetModel()
{
    pool_.clear();
    pool_.waitForDone();
}

void DatasetModel::setSource(std::shared_ptr<const ImageSource> source, QStringList labels)
{
    beginResetModel();
    ++generation_;
    pool_.clear(); // queued thumbnails of the previous dataset
    source_ = std::move(source);
    labels_ = std::move(labels);
    loaded_ = source_ ? std::min<std::int64_t>(batchRows, source_->size()) : 0;
    cache_.clear();
    pending_.clear();
    unusable_.clear();
    endResetModel();
    Q_EMIT unusableChanged(0);
}

int DatasetModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(loaded_);
}

bool DatasetModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && source_ && loaded_ < source_->size();
}

void DatasetModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    const std::int64_t more = std::min<std::int64_t>(batchRows, source_->size() - loaded_);
    beginInsertRows({}, static_cast<int>(loaded_), static_cast<int>(loaded_ + more - 1));
    loaded_ += more;
    endInsertRows();
}

QPixmap DatasetModel::placeholder() const
{
    if (placeholder_.isNull()) {
        placeholder_ = QPixmap(thumb_, thumb_);
        placeholder_.fill(QColor(50, 52, 56));
    }
    return placeholder_;
}

QString DatasetModel::labelText(int label) const
{
    if (label < 0)
        return {};
    return label < labels_.size() ? labels_[label] : QString::number(label);
}

QVariant DatasetModel::data(const QModelIndex &index, int role) const
{
    if (!source_ || !index.isValid() || index.row() >= loaded_)
        return {};
    const std::int64_t i = index.row();
    switch (role) {
    case IndexRole: return QVariant::fromValue<qint64>(i);
    case LabelRole: return source_->label(i);
    case Qt::DisplayRole: { // the class, or for unlabelled images their file name
        const int label = source_->label(i);
        return label >= 0 ? labelText(label) : QFileInfo(QString::fromStdString(source_->name(i))).fileName();
    }
    case Qt::SizeHintRole: // wider than the thumbnail: "Ankle boot" or a short file name shows whole under it
        return QSize(thumbnailSize() + 30, thumbnailSize() + 20);
    case Qt::ToolTipRole: {
        const QString label = labelText(source_->label(i));
        const QString problem = unusable_.value(i);
        return QString::fromStdString(source_->name(i)) + (label.isEmpty() ? QString() : "\n" + label) +
               (problem.isEmpty() ? QString() : tr("\nCannot be used: %1").arg(problem));
    }
    case Qt::DecorationRole:
        if (unusable_.contains(i)) {
            if (unusableTile_.isNull())
                unusableTile_ = QPixmap::fromImage(unusableTile(thumb_));
            return unusableTile_;
        }
        if (QImage *img = cache_.object(i))
            return QPixmap::fromImage(*img);
        request(i);
        return placeholder(); // same size as a thumbnail, so the layout never jumps
    }
    return {};
}

void DatasetModel::markUnusable(std::int64_t index, const QString &reason)
{
    if (!source_ || index < 0 || index >= source_->size() || unusable_.contains(index))
        return;
    unusable_.insert(index, reason);
    cache_.remove(index);
    if (index < loaded_) {
        const QModelIndex at = this->index(static_cast<int>(index));
        Q_EMIT dataChanged(at, at, {Qt::DecorationRole, Qt::ToolTipRole});
    }
    Q_EMIT unusableChanged(unusableCount());
}

void DatasetModel::thumbnailReady(std::int64_t index, const QImage &image, const QString &problem)
{
    pending_.remove(index);
    if (!problem.isEmpty()) {
        markUnusable(index, problem);
        return;
    }
    cache_.insert(index, new QImage(image));
    const QModelIndex at = this->index(static_cast<int>(index));
    Q_EMIT dataChanged(at, at, {Qt::DecorationRole});
}

void DatasetModel::request(std::int64_t index) const
{
    if (pending_.contains(index))
        return;
    pending_.insert(index);
    auto source = source_;
    const int size = thumb_;
    const quint64 generation = generation_;
    auto *self = const_cast<DatasetModel *>(this);
    pool_.start([=] {
        QImage img;
        QString problem;
        try {
            img = thumbnail(source->image(index), size);
        } catch (const std::exception &e) {
            problem = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(self, [self, img, problem, index, generation] {
            if (generation == self->generation_)
                self->thumbnailReady(index, img, problem);
        }, Qt::QueuedConnection);
    }, ++priority_);
}

} // namespace convscope
