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
    resumedAt_ = info.done; // a shard starts at its first image
    if (info.done > info.first)
        scan_->resume(info.done, store_->acceptedEntries(id_));
    scan_->recordAccepted(true);
    checkpointSeconds_ = options.checkpointSeconds;
    last_ = lastRecord_ = std::chrono::steady_clock::now();
    scan_->setBatchSink([this](const ScanBatch &batch) {
        const auto now = std::chrono::steady_clock::now();
        add(batch, std::chrono::duration<double>(now - last_).count());
        last_ = now;
        if (std::chrono::duration<double>(now - lastRecord_).count() >= checkpointSeconds_)
            checkpoint(); // throws: the batch does not count as done (Scan::setBatchSink)
    });
}

StoredScan::~StoredScan()
{
    try {
        checkpoint();
    } catch (const std::exception &) {
        // The catalogue keeps its last record; a later run resumes from there.
    }
}

void StoredScan::add(const ScanBatch &batch, double seconds)
{
    if (!hasPending_) {
        pending_.first = batch.first; // (accepted entries of a failed record stay)
        pendingFeatures_.assign(scan_->features().size(), {});
        pendingSeconds_ = 0;
        hasPending_ = true;
    }
    pending_.count = batch.first + batch.count - pending_.first;
    auto append = [](auto &to, const auto &from) { to.insert(to.end(), from.begin(), from.end()); };
    append(pending_.indices, batch.indices);
    append(pending_.skipped, batch.skipped);
    append(pending_.labels, batch.labels);
    append(pending_.predicted, batch.predicted);
    append(pending_.confidence, batch.confidence);
    for (size_t f = 0; f < batch.features.size() && f < pendingFeatures_.size(); ++f)
        if (batch.features[f].defined() && batch.features[f].size(0) > 0)
            pendingFeatures_[f].push_back(batch.features[f]);
    pendingSeconds_ += seconds;
}

void StoredScan::checkpoint()
{
    if (!hasPending_)
        return;
    // Entries of an earlier attempt that failed stay in pending_.accepted: they go out with this one.
    auto taken = scan_->takeAccepted();
    pending_.accepted.resize(taken.size());
    for (size_t t = 0; t < taken.size(); ++t)
        pending_.accepted[t].insert(pending_.accepted[t].end(), taken[t].begin(), taken[t].end());
    pending_.features.clear();
    for (auto &parts : pendingFeatures_)
        pending_.features.push_back(parts.empty() ? torch::Tensor() : torch::cat(parts));
    store_->recordBatch(id_, pending_, *source_, pendingSeconds_);
    hasPending_ = false;
    pending_ = ScanBatch{};
    pendingFeatures_.clear();
    lastRecord_ = std::chrono::steady_clock::now();
}

bool StoredScan::run(int batches)
{
    if (reused_)
        return false;
    if (scan_->run(batches))
        return true;
    checkpoint();
    if (!store_->scan(id_).complete)
        store_->complete(id_, *scan_);
    return false;
}

} // namespace convscope
