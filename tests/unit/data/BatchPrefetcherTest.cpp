// The prefetcher's decode workers and a helping consumer share the batches in flight: whatever thread decodes an
// image, batches come out in dataset order and equal a plain BatchReader::read of the same range, skipped images
// included.
#include "CatchTorch.h"

#include "data/BatchPrefetcher.h"
#include "data/ImageSource.h"
#include "TestPaths.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <chrono>
#include <thread>

using namespace convscope;

namespace {

/// Another source, slowed down per image (so that the consumer is sure to find its batch unfinished).
class SlowSource : public ImageSource {
public:
    SlowSource(const ImageSource &base, int millis) : base_(base), millis_(millis) {}
    std::int64_t size() const override { return base_.size(); }
    std::string name(std::int64_t i) const override { return base_.name(i); }
    int label(std::int64_t i) const override { return base_.label(i); }
    cv::Mat image(std::int64_t i) const override
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(millis_));
        return base_.image(i);
    }
    std::string description() const override { return "slow " + base_.description(); }

private:
    const ImageSource &base_;
    int millis_;
};

/// The Fashion-MNIST test set at `millis` ms an image, read at its own size.
struct SlowFashion {
    explicit SlowFashion(int millis)
        : fashion(ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz")), slow(*fashion, millis),
          reader(slow, Preprocessor(spec()))
    {
    }
    static InputSpec spec()
    {
        InputSpec s;
        s.width = s.height = 28;
        s.channels = 1;
        return s;
    }
    std::unique_ptr<ImageSource> fashion;
    SlowSource slow;
    BatchReader reader;
};

/// Every batch of the prefetcher, checked against BatchReader::read of the same range; returns the images seen.
std::int64_t checkAgainstRead(BatchPrefetcher &prefetcher, const BatchReader &reader, std::int64_t first,
                              std::int64_t total, int batchSize)
{
    std::int64_t at = first;
    while (std::optional<Batch> b = prefetcher.next()) {
        const Batch expected = reader.read(at, std::min<std::int64_t>(batchSize, total - at), 1);
        REQUIRE(b->indices == expected.indices);
        REQUIRE(b->skipped.size() == expected.skipped.size());
        for (size_t i = 0; i < b->skipped.size(); ++i) {
            CHECK(b->skipped[i].index == expected.skipped[i].index);
            CHECK(b->skipped[i].reason == expected.skipped[i].reason);
        }
        REQUIRE(b->input.defined() == expected.input.defined());
        if (b->input.defined())
            REQUIRE(torch::equal(b->input, expected.input));
        at += static_cast<std::int64_t>(b->indices.size() + b->skipped.size());
        CHECK(prefetcher.delivered() == at);
    }
    return at;
}

} // namespace

TEST_CASE("prefetched batches equal plain reads, in order, with any number of decode threads", "[data][prefetch]")
{
    auto source = ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    InputSpec spec;
    spec.width = spec.height = 32; // resized: every image goes through the full preprocessing
    spec.mean = {0.3f, 0.3f, 0.3f};
    spec.std = {0.5f, 0.5f, 0.5f};
    spec.channels = 1;
    BatchReader reader(*source, Preprocessor(spec));
    const std::int64_t total = 1500, first = 130;
    for (int threads : {1, 3}) {
        for (bool help : {true, false}) {
            DYNAMIC_SECTION("threads " << threads << (help ? ", consumer helps" : ", consumer waits"))
            {
                BatchPrefetcher::Options o;
                o.threads = threads;
                o.help = help;
                o.depth = 3;
                BatchPrefetcher prefetcher(reader, total, 64, o, first);
                CHECK(checkAgainstRead(prefetcher, reader, first, total, 64) == total);
                CHECK_FALSE(prefetcher.pending());
                CHECK_FALSE(prefetcher.next());
                if (!help)
                    CHECK(prefetcher.decodedByConsumer() == 0);
            }
        }
    }
}

TEST_CASE("prefetching a folder with broken images skips them in order", "[data][prefetch][errors]")
{
    // Good and broken files interleaved (sorted by name), so batches hold both.
    QTemporaryDir dir;
    const QString good = QString::fromStdString(testpaths::fixtures() + "/images/good/red");
    const QString bad = QString::fromStdString(testpaths::fixtures() + "/images/bad");
    const QStringList goods = QDir(good).entryList(QDir::Files), bads = QDir(bad).entryList(QDir::Files);
    REQUIRE(goods.size() >= 1);
    REQUIRE(bads.size() >= 2);
    for (int i = 0; i < 12; ++i) {
        const bool broken = i % 3 == 1;
        const QString from = broken ? bad + "/" + bads[i % bads.size()] : good + "/" + goods[i % goods.size()];
        const QString ext = QFileInfo(from).suffix();
        REQUIRE(QFile::copy(from, dir.filePath(QString("%1.%2").arg(i, 2, 10, QChar('0')).arg(ext))));
    }
    auto source = ImageSource::open(dir.path().toStdString());
    REQUIRE(source->size() == 12);
    InputSpec spec;
    spec.width = spec.height = 16;
    BatchReader reader(*source, Preprocessor(spec));
    BatchPrefetcher::Options o;
    o.threads = 2;
    BatchPrefetcher prefetcher(reader, source->size(), 5, o);
    CHECK(checkAgainstRead(prefetcher, reader, 0, source->size(), 5) == 12);
}

TEST_CASE("a consumer that waits for its batch decodes part of it itself", "[data][prefetch]")
{
    SlowFashion data(5);
    const BatchReader &reader = data.reader;
    BatchPrefetcher::Options o;
    o.threads = 1;
    o.depth = 1;
    BatchPrefetcher prefetcher(reader, 96, 32, o);
    CHECK(checkAgainstRead(prefetcher, reader, 0, 96, 32) == 96);
    // One worker at 5 ms an image against a consumer that only waits: it must have decoded some images itself
    // (all of them when other processes leave the idle-priority worker no core).
    CHECK(prefetcher.decodedByConsumer() > 0);
}

TEST_CASE("a prefetcher stopped half-way returns at once", "[data][prefetch]")
{
    SlowFashion data(2);
    const BatchReader &reader = data.reader;
    const auto start = std::chrono::steady_clock::now();
    {
        BatchPrefetcher prefetcher(reader, 10000, 64);
        REQUIRE(prefetcher.next());
    }
    // Destroyed with 9,936 images to go: only the images being decoded are finished (seconds would mean it drained).
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
