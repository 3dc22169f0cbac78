#include "data/BatchReader.h"

#include "common/RuntimePolicy.h"
#include "data/BatchAssembly.h"

#include <atomic>
#include <thread>

namespace convscope {

void BatchReader::decodeInto(std::int64_t index, const torch::Tensor &row) const
{
    // Large JPEGs decode at a fraction of their size when the model sees far fewer pixels (decodeReduction).
    const std::function<int(int, int)> reduction = [this](int w, int h) { return pre_.decodeReduction(w, h); };
    pre_.tensorInto(source_.reducedImage(index, reduction), row);
}

Batch BatchReader::read(std::int64_t first, std::int64_t count, int threads) const
{
    count = std::max<std::int64_t>(0, std::min(count, source_.size() - first));
    // Every worker writes its images straight into their rows of the batch (decode, resize, normalise: one image
    // at a time, while it is in cache); rows of images that fail are dropped at the end.
    BatchAssembly assembly(*this, first, count);
    std::atomic<std::int64_t> next{0};
    auto work = [&] {
        for (std::int64_t k = next++; k < count; k = next++)
            assembly.decode(k);
    };
    const int n = static_cast<int>(std::min<std::int64_t>(threads > 0 ? threads : RuntimePolicy::cores(), count));
    std::vector<std::thread> pool;
    for (int t = 1; t < n; ++t)
        pool.emplace_back(work);
    work();
    for (auto &t : pool)
        t.join();
    return assembly.finish();
}

} // namespace convscope
