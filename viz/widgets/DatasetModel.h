#pragma once
// The images of a dataset as a list model with lazily decoded thumbnails: rows are added in batches
// (fetchMore), a thumbnail is decoded on the thread pool the first time a view asks for it, and the view is told
// when it is ready. Memory: one small QImage per thumbnail seen (LRU-bounded).
#include "data/ImageSource.h"

#include <QAbstractListModel>
#include <QCache>
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
    void fetchMore(const QModelIndex &parent) override;

private:
    void request(std::int64_t index) const;
    QString labelText(int label) const;
    QPixmap placeholder() const;

    std::shared_ptr<const ImageSource> source_;
    QStringList labels_;
    std::int64_t loaded_ = 0;
    int thumb_ = 64;
    quint64 generation_ = 0;
    mutable QCache<std::int64_t, QImage> cache_{20000};
    mutable QSet<std::int64_t> pending_;
    mutable QPixmap placeholder_;
    mutable QThreadPool pool_;   ///< thumbnail decoding; joined in the destructor so no job outlives the model
    mutable int priority_ = 0;   ///< later requests first: what the user scrolled to last shows up first
};

} // namespace convscope
