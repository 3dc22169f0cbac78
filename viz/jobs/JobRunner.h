#pragma once
// Runs a panel's background work on the thread pool and hands results back on the GUI thread. Each job belongs to a
// generation counter: starting a job bumps it, and a result arrives only if no newer job of that counter started
// in the meantime (older results are dropped). Exceptions become failure messages. Only QImages and tensors
// cross threads; callers make QPixmaps in `done`.
#include <QCoreApplication>
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QtConcurrent/QtConcurrentRun>

#include <functional>
#include <memory>

namespace convscope {

class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(QObject *parent = nullptr) : QObject(parent) {}
    ~JobRunner() override { waitForIdle(); }

    /// Starts `work` on a worker thread; `done` (or `failed` with the exception's message) runs on the GUI thread
    /// unless `generation` moved on. `generation` must outlive the job (a member of the panel).
    template <class T>
    void run(quint64 &generation, std::function<T()> work, std::function<void(T &)> done,
             std::function<void(const QString &)> failed)
    {
        using Result = std::pair<std::shared_ptr<T>, QString>;
        const quint64 mine = ++generation;
        ++pending_;
        auto *watcher = new QFutureWatcher<Result>(this);
        connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher, &generation, mine, done, failed] {
            Result r = watcher->result();
            watcher->deleteLater();
            --pending_;
            if (mine == generation) {
                if (r.first)
                    done(*r.first);
                else if (failed)
                    failed(r.second);
            }
            Q_EMIT finished();
        });
        watcher->setFuture(QtConcurrent::run([work]() -> Result {
            try {
                return {std::make_shared<T>(work()), QString()};
            } catch (const std::exception &e) {
                return {nullptr, QString::fromStdString(e.what())};
            }
        }));
    }

    /// Jobs started and not yet handed back (including superseded ones).
    int pending() const { return pending_; }
    /// Processes events until every job is handed back (tests, shutdown).
    void waitForIdle()
    {
        while (pending_ > 0)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }

Q_SIGNALS:
    /// A job was handed back (its result applied, reported or dropped).
    void finished();

private:
    int pending_ = 0;
};

} // namespace convscope
