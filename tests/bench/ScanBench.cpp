// Dataset scan throughput: the full scan (decode + preprocess pipelined with the probe forward + top-k) against a
// bare forward pass over already-prepared tensors (same model, batch and threads). Goal: ratio >= 0.90.
// Also the scan's peak memory at 10k and 100k images (the latter repeats the test set): it must not grow.
#include "BenchTimer.h"
#include "ImageSource.h"
#include "RuntimePolicy.h"
#include "Scan.h"

#include <cstdio>
#include <sys/resource.h>

using namespace convscope;

namespace {

/// The first `count` images of a source, cycling through it (for 100k-image runs from a 10k set).
class RepeatSource : public ImageSource {
public:
    RepeatSource(const ImageSource &base, std::int64_t count) : base_(base), count_(count) {}
    std::int64_t size() const override { return count_; }
    std::string name(std::int64_t i) const override { return base_.name(i % base_.size()); }
    int label(std::int64_t i) const override { return base_.label(i % base_.size()); }
    cv::Mat image(std::int64_t i) const override { return base_.image(i % base_.size()); }
    std::string description() const override { return std::to_string(count_) + " images (repeated)"; }

private:
    const ImageSource &base_;
    std::int64_t count_;
};

long peakRssMb()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

} // namespace

int main(int argc, char **argv)
{
    const int threads = RuntimePolicy::init(argv);
    auto model = Model::load(CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt");
    auto source = ImageSource::open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    const int batch = 64;
    const std::int64_t n = source->size();

    // Baseline: bare forward over tensors prepared beforehand.
    BatchReader reader(*source, Preprocessor(model->input()));
    std::vector<torch::Tensor> prepared;
    for (std::int64_t first = 0; first < n; first += batch)
        prepared.push_back(reader.read(first, batch).input);
    auto bare = [&] {
        for (const auto &x : prepared)
            model->forward(x);
    };
    auto scanAll = [&](const ImageSource &src) {
        Scan::Options o;
        o.batchSize = batch;
        Scan scan(model, src, o);
        while (scan.run(8)) {
        }
    };
    auto [bareS, scanS] = bench::alternate(bare, [&] { scanAll(*source); }, 3, 1);
    std::printf("demo, %lld images, batch %d, %d threads, %zu layers scanned\n", static_cast<long long>(n), batch,
                threads, Scan::defaultLayers(*model).size());
    std::printf("bare forward (prepared tensors) %.2f s = %.0f img/s\n", bareS, n / bareS);
    std::printf("scan (decode + forward + top-k) %.2f s = %.0f img/s\n", scanS, n / scanS);
    std::printf("throughput ratio scan / bare: %.3f (goal >= 0.90)\n", bareS / scanS);
    prepared.clear();
    std::printf("peak RSS after 10k-image scans: %ld MB\n", peakRssMb());
    RepeatSource big(*source, 100000);
    const double bigS = bench::seconds([&] { scanAll(big); });
    std::printf("100k-image scan: %.1f s, peak RSS %ld MB (memory does not grow with the dataset)\n", bigS, peakRssMb());
    return 0;
}
