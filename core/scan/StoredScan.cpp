#include "scan/StoredScan.h"

#include "common/Error.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace convscope {

std::string StoredScan::defaultProjectDir(const std::string &datasetPath)
{
    const QFileInfo dataset(QString::fromStdString(datasetPath));
    const QString absolute = dataset.absoluteFilePath();
    QString name = dataset.isDir() ? QDir(absolute).dirName() : dataset.completeBaseName();
    if (name.isEmpty())
        name = "dataset";
    const QFileInfo parent(dataset.absolutePath());
    // System-installed data (Debian's dataset packages) stays untouched, even for root.
    const bool system = absolute.startsWith("/usr/") || absolute.startsWith("/opt/") ||
                        absolute.startsWith("/var/lib/") || absolute.startsWith("/etc/");
    if (!system && parent.isDir() && parent.isWritable())
        return (dataset.absolutePath() + "/" + name + ".convscope").toStdString();
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty())
        base = QDir::homePath() + "/.local/share";
    const QString hash = QCryptographicHash::hash(absolute.toUtf8(), QCryptographicHash::Sha1).toHex().left(8);
    return (base + "/convscope/projects/" + name + "-" + hash).toStdString();
}

StoredScan::StoredScan(std::shared_ptr<const Model> model, std::shared_ptr<const ImageSource> source,
                       const std::string &datasetPath, Options options)
    : model_(std::move(model)), source_(std::move(source))
{
    scan_ = std::make_unique<Scan>(model_, *source_, options.scan);
    store_ = std::make_unique<ProjectStore>(options.project.empty() ? defaultProjectDir(datasetPath)
                                                                    : options.project);
    ProjectStore::ScanInfo info = store_->openScan(*model_, datasetPath, *scan_);
    id_ = info.id;
    if (info.complete && !options.fresh) {
        reused_ = true; // read-only from here: no writer lock needed
        return;
    }
    store_->lockForWriting(id_);
    if (options.fresh && (info.done > 0 || info.complete)) {
        store_->discard(id_);
        info = store_->scan(id_);
    }
    if (info.done > 0) {
        scan_->resume(info.done, store_->acceptedEntries(id_));
        resumedAt_ = info.done;
    }
    last_ = std::chrono::steady_clock::now();
    scan_->setBatchSink([this](const ScanBatch &batch) {
        const auto now = std::chrono::steady_clock::now();
        store_->recordBatch(id_, batch, *source_, std::chrono::duration<double>(now - last_).count());
        last_ = now;
    });
}

StoredScan::~StoredScan() = default;

bool StoredScan::run(int batches)
{
    if (reused_)
        return false;
    if (scan_->run(batches))
        return true;
    if (!store_->scan(id_).complete)
        store_->complete(id_, *scan_);
    return false;
}

} // namespace convscope
