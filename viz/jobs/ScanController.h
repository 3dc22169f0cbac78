#pragma once
// Runs a stored dataset scan (StoredScan) as a background job for the GUI: progress with images/s, Stop (the scan
// stops after the batch in flight; everything finished is kept in the project and resumes next time), and the
// result as a (project, scan id) pair. The worker opens its own project connection: SQLite connections belong to
// one thread.
#include "jobs/JobLane.h"
#include "model/Model.h"
#include "scan/StoredScan.h"

#include <QElapsedTimer>
#include <QObject>

#include <memory>

namespace convscope {

class ScanController : public QObject {
    Q_OBJECT
public:
    explicit ScanController(QObject *parent = nullptr);
    /// Stops the running scan and waits for it (its finished batches are kept).
    ~ScanController() override;

    /// Starts scanning (or finds the finished scan). Ignored while a scan runs.
    void start(std::shared_ptr<const Model> model, std::shared_ptr<const ImageSource> dataset,
               const QString &datasetPath, StoredScan::Options options);
    /// Asks the running scan to stop after its current batch; cancelled() follows.
    void cancel();
    bool running() const { return jobs_->active(); }
    /// Processes events until the worker is done (tests, shutdown).
    void wait();

Q_SIGNALS:
    void started(qint64 resumedAt, qint64 total);
    void progress(qint64 done, qint64 total, double imagesPerSecond);
    /// The scan is complete (`reused`: it was already).
    void finished(const QString &project, qint64 scanId, bool reused);
    void cancelled(qint64 done, qint64 total);
    void failed(const QString &message);

private:
    struct Outcome {
        QString project;
        qint64 scanId = -1;
        bool reused = false;
    };
    JobLane *jobs_;
    QElapsedTimer clock_;
    qint64 firstDone_ = 0, done_ = 0, total_ = 0;
};

} // namespace convscope
