#pragma once
// The images of a dataset as a list model with lazily decoded thumbnails: rows are added in batches
// (fetchMore), a thumbnail is decoded on the thread pool the first time a view asks for it, and the view is told
// when it is ready. Memory: one small QImage per thumbnail seen (LRU-bounded).
//
// Images that cannot be used — their decoding failed (ImageDecoder, the same decoding a scan does) or a scan
// skipped them — show as a red tile with a cross, and their tooltip says why; unusableCount() counts those found
// so far (thumbnails decode as they are seen; a scan's list covers the whole dataset).
#include "data/ImageSource.h"

#include <QAbstractListModel>
#include <QCache>
#include <QHash>
#include <QImage>
#include <QPixmap>
#include <QSet>
#include <QThreadPool>

#include <memory>

namespace convscope {

class DatasetModel : public QAbstractListModel {
    Q_OBJECT
public:
    static constexpr int IndexRole = Qt::UserRole;     ///< dataset index (qint64)
    static constexpr int LabelRole = Qt::UserRole + 1; ///< class index (int, -1 = none)

    explicit DatasetModel(QObject *parent = nullptr);
    ~DatasetModel() override;
    /// `labels`: class names by label (model's or folders'); may be empty.
    void setSource(std::shared_ptr<const ImageSource> source, QStringList labels);
    int thumbnailSize() const { return thumb_; }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    /// Marks an image as unusable with the reason shown to the user (from a scan's skipped list).
    void markUnusable(std::int64_t index, const QString &reason);
    /// Images found unusable so far, and why (dataset index → reason).
    int unusableCount() const { return static_cast<int>(unusable_.size()); }
    QString unusableReason(std::int64_t index) const { return unusable_.value(index); }
    void fetchMore(const QModelIndex &parent) override;

Q_SIGNALS:
    /// unusableCount() changed.
    void unusableChanged(int count);

private:
    void request(std::int64_t index) const;
    void thumbnailReady(std::int64_t index, const QImage &image, const QString &problem);
    QString labelText(int label) const;
    QPixmap placeholder() const;

    std::shared_ptr<const ImageSource> source_;
    QStringList labels_;
    std::int64_t loaded_ = 0;
    int thumb_ = 64;
    quint64 generation_ = 0;
    mutable QCache<std::int64_t, QImage> cache_{20000};
    mutable QSet<std::int64_t> pending_;
    QHash<std::int64_t, QString> unusable_;
    mutable QPixmap placeholder_;
    mutable QPixmap unusableTile_;
    mutable QThreadPool pool_;   ///< thumbnail decoding; joined in the destructor so no job outlives the model
    mutable int priority_ = 0;   ///< later requests first: what the user scrolled to last shows up first
};

} // namespace convscope
