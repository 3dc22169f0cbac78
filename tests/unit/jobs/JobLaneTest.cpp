// The one background-job mechanism of the GUI (JobLane): a newer job supersedes an older one (whose handlers never
// run), cancel ends a cooperative job with the cancelled outcome, failures arrive typed by the error's family,
// progress and posted frames reach the GUI thread only while the job is current, and destroying a lane waits for
// its own jobs only — or not at all for a lane whose work captures values only (setWaitOnDestroy(false)).
#include "CatchTorch.h"

#include "common/Error.h"
#include "jobs/JobLane.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QThread>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

using namespace convscope;

namespace {

/// Processes events until `done()` or `ms` passed; true when done() held.
template <class F>
bool waitFor(F done, int ms = 20000)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    return done();
}

/// Work that runs until its job is cancelled (bounded, so a broken cancel fails the test instead of hanging it).
int untilCancelled(JobContext &job)
{
    for (int i = 0; i < 3000; ++i) {
        if (job.cancelled())
            throw CancelledError();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

} // namespace

TEST_CASE("job lane: a newer job supersedes the older one, whose handlers never run", "[jobs]")
{
    JobLane lane;
    std::atomic<bool> firstRanToEnd{false};
    int doneFirst = 0, cancelledFirst = 0, doneSecond = 0, settled = 0;
    QObject::connect(&lane, &JobLane::settled, [&] { ++settled; });
    JobHandlers<int> first;
    first.done = [&](int &) { ++doneFirst; };
    first.cancelled = [&] { ++cancelledFirst; };
    lane.start<int>(
        [&](JobContext &job) {
            const int v = untilCancelled(job);
            firstRanToEnd = true;
            return v;
        },
        first);
    JobHandlers<int> second;
    int value = 0;
    second.done = [&](int &v) {
        ++doneSecond;
        value = v;
    };
    lane.start<int>([](JobContext &) { return 42; }, second);
    CHECK(lane.active());
    REQUIRE(waitFor([&] { return lane.pending() == 0; }));
    CHECK(doneSecond == 1);
    CHECK(value == 42);
    CHECK(doneFirst == 0);      // the superseded result is dropped…
    CHECK(cancelledFirst == 0); // …and so is its cancelled outcome
    CHECK(settled == 2);
    CHECK_FALSE(lane.active());
    // The superseded work was asked to stop: it threw CancelledError instead of looping to its end.
    CHECK_FALSE(firstRanToEnd);
}

TEST_CASE("job lane: cancel ends a cooperative job with the cancelled outcome", "[jobs]")
{
    JobLane lane;
    int cancelled = 0, done = 0, failed = 0;
    JobHandlers<int> on;
    on.done = [&](int &) { ++done; };
    on.cancelled = [&] { ++cancelled; };
    on.failed = [&](const JobError &) { ++failed; };
    lane.start<int>(untilCancelled, on);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    QElapsedTimer t;
    t.start();
    lane.cancel();
    CHECK(lane.active()); // still running until the work notices
    REQUIRE(waitFor([&] { return cancelled == 1; }));
    CHECK(t.elapsed() < 10000); // the work loops for 30 s unless it sees the cancel
    CHECK(done == 0);
    CHECK(failed == 0);
    CHECK_FALSE(lane.active());
    // A cancel with nothing running does nothing.
    lane.cancel();
    CHECK(lane.pending() == 0);
}

TEST_CASE("job lane: failures arrive typed by the error's family", "[jobs][errors]")
{
    JobLane lane;
    auto outcomeOf = [&](std::function<int(JobContext &)> work) {
        std::optional<JobError> error;
        bool cancelled = false;
        JobHandlers<int> on;
        on.failed = [&](const JobError &e) { error = e; };
        on.cancelled = [&] { cancelled = true; };
        lane.start<int>(std::move(work), on);
        REQUIRE(waitFor([&] { return lane.pending() == 0; }));
        return std::make_pair(error, cancelled);
    };
    auto data = outcomeOf([](JobContext &) -> int { throw DataError("cannot decode 'x.png'"); });
    REQUIRE(data.first);
    CHECK(data.first->kind == JobError::Kind::Data);
    CHECK(data.first->message == "cannot decode 'x.png'");
    auto usage = outcomeOf([](JobContext &) -> int { throw UsageError("no layer 'nope'"); });
    REQUIRE(usage.first);
    CHECK(usage.first->kind == JobError::Kind::Usage);
    auto model = outcomeOf([](JobContext &) -> int { throw ModelLoadError("not a TorchScript archive"); });
    REQUIRE(model.first);
    CHECK(model.first->kind == JobError::Kind::ModelLoad);
    auto bug = outcomeOf([](JobContext &) -> int { throw std::logic_error("index out of range"); });
    REQUIRE(bug.first);
    CHECK(bug.first->kind == JobError::Kind::Unexpected);
    CHECK(bug.first->message == "unexpected error: index out of range");
    // CancelledError is an outcome of its own, never a failure (no message comparison anywhere).
    auto stopped = outcomeOf([](JobContext &) -> int { throw CancelledError(); });
    CHECK_FALSE(stopped.first);
    CHECK(stopped.second);
}

TEST_CASE("job lane: progress and posted frames reach the GUI thread while the job is current", "[jobs]")
{
    JobLane lane;
    std::int64_t lastDone = -1, lastTotal = -1;
    int frames = 0, done = 0;
    const Qt::HANDLE gui = QThread::currentThreadId();
    bool onGuiThread = true;
    JobHandlers<int> on;
    on.progress = [&](std::int64_t d, std::int64_t t) {
        lastDone = d;
        lastTotal = t;
        onGuiThread = onGuiThread && QThread::currentThreadId() == gui;
    };
    on.done = [&](int &) { ++done; };
    lane.start<int>(
        [&](JobContext &job) {
            for (int i = 1; i <= 20; ++i) {
                job.report(i, 20, "steps");
                job.post([&] {
                    ++frames;
                    onGuiThread = onGuiThread && QThread::currentThreadId() == gui;
                });
            }
            return 0;
        },
        on);
    REQUIRE(waitFor([&] { return done == 1; }));
    CHECK(lastDone == 20); // coalesced, but the last report always arrives
    CHECK(lastTotal == 20);
    CHECK(frames == 20);   // posted before the job ended: all delivered, in order, before `done`
    CHECK(onGuiThread);

    // Frames and reports of a job that was dropped never run.
    int lateFrames = 0;
    std::int64_t lateReports = 0;
    std::atomic<bool> release{false};
    JobHandlers<int> late;
    late.progress = [&](std::int64_t, std::int64_t) { ++lateReports; };
    lane.start<int>(
        [&](JobContext &job) {
            while (!release)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            job.report(1, 1, "late");
            job.post([&] { ++lateFrames; });
            return 0;
        },
        late);
    lane.drop();
    release = true;
    REQUIRE(waitFor([&] { return lane.pending() == 0; }));
    QCoreApplication::processEvents();
    CHECK(lateFrames == 0);
    CHECK(lateReports == 0);
}

TEST_CASE("job lane: destroying a lane cancels its jobs and waits for them only", "[jobs]")
{
    JobLane other;
    std::atomic<bool> release{false}, otherFinished{false};
    other.start<int>(
        [&](JobContext &) {
            while (!release)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            otherFinished = true;
            return 0;
        },
        {});
    std::atomic<bool> ownReturned{false};
    {
        auto lane = std::make_unique<JobLane>();
        int handlers = 0;
        JobHandlers<int> on;
        on.cancelled = [&] { ++handlers; };
        on.done = [&](int &) { ++handlers; };
        lane->start<int>(
            [&](JobContext &job) {
                struct Mark {
                    std::atomic<bool> &flag;
                    ~Mark() { flag = true; }
                } mark{ownReturned};
                return untilCancelled(job);
            },
            on);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        lane.reset(); // cancels its job and waits for it, not for `other`'s
        CHECK(ownReturned);
        CHECK(handlers == 0); // nothing runs after the owner is gone
    }
    CHECK_FALSE(otherFinished);
    CHECK(other.active());
    release = true;
    REQUIRE(waitFor([&] { return other.pending() == 0; }));
    CHECK(otherFinished);
}

TEST_CASE("job lane: a lane that need not wait is destroyed at once, its work finishes on the pool and reports nowhere",
          "[jobs]")
{
    std::atomic<bool> release{false}, finished{false};
    int reports = 0, done = 0;
    auto lane = std::make_unique<JobLane>();
    lane->setWaitOnDestroy(false);
    JobHandlers<int> on;
    on.done = [&](int &) { ++done; };
    on.progress = [&](std::int64_t, std::int64_t) { ++reports; };
    lane->start<int>(
        [&](JobContext &job) { // work that cannot stop midway (a model load), then reports and posts anyway
            while (!release.load())
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            job.report(1, 1, "step");
            job.post([&] { ++reports; });
            finished = true;
            return 7;
        },
        on);
    QElapsedTimer t;
    t.start();
    lane.reset(); // would block until `release` with a waiting lane
    CHECK(t.elapsed() < 1000);
    CHECK_FALSE(finished.load());
    release = true;
    REQUIRE(waitFor([&] { return finished.load(); }));
    JobLane::pool()->waitForDone();
    QCoreApplication::processEvents();
    CHECK(reports == 0); // the detached job's report and post went nowhere
    CHECK(done == 0);
}
