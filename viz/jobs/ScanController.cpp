#include "jobs/ScanController.h"

#include <QtConcurrent>

#include <chrono>

namespace convscope {

ScanController::ScanController(QObject *parent) : QObject(parent)
{
    connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, [this] {
        const Outcome o = watcher_.result();
        if (!o.error.isEmpty())
            Q_EMIT failed(o.error);
        else if (o.cancelled)
            Q_EMIT cancelled(o.done, o.total);
        else
            Q_EMIT finished(o.project, o.scanId, o.reused);
    });
}

ScanController::~ScanController()
{
    cancel();
    wait();
}

void ScanController::cancel()
{
    cancel_ = true;
}

void ScanController::wait()
{
    watcher_.waitForFinished();
}

void ScanController::start(std::shared_ptr<const Model> model, std::shared_ptr<const ImageSource> dataset,
                           const QString &datasetPath, StoredScan::Options options)
{
    if (running() || !model || !dataset)
        return;
    cancel_ = false;
    watcher_.setFuture(QtConcurrent::run([this, model, dataset, datasetPath, options]() {
        Outcome o;
        try {
            StoredScan scan(model, dataset, datasetPath.toStdString(), options);
            o.project = QString::fromStdString(scan.store().dir());
            o.scanId = scan.id();
            o.reused = scan.reused();
            o.total = scan.total();
            QMetaObject::invokeMethod(this, [this, at = scan.resumedAt(), total = scan.total()] {
                Q_EMIT started(at, total);
            });
            const auto begin = std::chrono::steady_clock::now();
            const std::int64_t first = scan.done();
            while (!cancel_ && scan.run(1)) {
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
                const double rate = seconds > 0 ? static_cast<double>(scan.done() - first) / seconds : 0.0;
                QMetaObject::invokeMethod(this, [this, d = scan.done(), t = scan.total(), rate] {
                    Q_EMIT progress(d, t, rate);
                });
            }
            o.done = scan.done();
            o.cancelled = cancel_ && !scan.info().complete;
        } catch (const std::exception &e) {
            o.error = QString::fromStdString(e.what());
        }
        return o;
    }));
}

} // namespace convscope
