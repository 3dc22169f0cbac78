#include "jobs/ScanController.h"

namespace convscope {

ScanController::ScanController(QObject *parent) : QObject(parent), jobs_(new JobLane(this)) {}

ScanController::~ScanController()
{
    delete jobs_; // stops the scan after its batch in flight and waits for it, while this object is whole
}

void ScanController::cancel()
{
    jobs_->cancel();
}

void ScanController::wait()
{
    jobs_->waitForIdle();
}

void ScanController::start(std::shared_ptr<const Model> model, std::shared_ptr<const ImageSource> dataset,
                           const QString &datasetPath, StoredScan::Options options)
{
    if (running() || !model || !dataset)
        return;
    JobHandlers<Outcome> on;
    on.done = [this](Outcome &o) { Q_EMIT finished(o.project, o.scanId, o.reused); };
    on.cancelled = [this] { Q_EMIT cancelled(done_, total_); };
    on.failed = [this](const JobError &e) { Q_EMIT failed(e.message); };
    on.progress = [this](std::int64_t done, std::int64_t total) {
        done_ = done;
        total_ = total;
        const double seconds = static_cast<double>(clock_.elapsed()) / 1000.0;
        Q_EMIT progress(done, total, seconds > 0 ? static_cast<double>(done - firstDone_) / seconds : 0.0);
    };
    jobs_->start<Outcome>(
        [this, model, dataset, datasetPath, options](Progress &progress) {
            StoredScan scan(model, dataset, datasetPath.toStdString(), options);
            // Queued before any progress report: the GUI thread sees where the scan starts first.
            QMetaObject::invokeMethod(this, [this, at = scan.resumedAt(), total = scan.total()] {
                clock_.start();
                firstDone_ = done_ = at;
                total_ = total;
                Q_EMIT started(at, total);
            });
            while (!progress.cancelled() && scan.run(1))
                progress.report(scan.done(), scan.total(), "scanning");
            if (progress.cancelled() && !scan.info().complete) {
                progress.report(scan.done(), scan.total(), "stopped");
                throw CancelledError();
            }
            return Outcome{QString::fromStdString(scan.store().dir()), scan.id(), scan.reused()};
        },
        on);
}

} // namespace convscope
