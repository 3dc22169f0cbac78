#include "data/BatchReader.h"

#include "common/Error.h"
#include "common/RuntimePolicy.h"

#include <atomic>
#include <thread>

namespace convscope {

Batch BatchReader::read(std::int64_t first, std::int64_t count, int threads) const
{
    count = std::max<std::int64_t>(0, std::min(count, source_.size() - first));
    const InputSpec &spec = pre_.spec();
    // Every worker writes its images straight into their rows of the batch (decode, resize, normalise: one image
    // at a time, while it is in cache); rows of images that fail are dropped at the end.
    torch::Tensor rows = torch::empty({count, spec.channels, spec.height, spec.width});
    std::vector<char> ok(static_cast<size_t>(count), 0);
    std::vector<std::string> errors(static_cast<size_t>(count));
    // Large JPEGs decode at a fraction of their size when the model sees far fewer pixels (decodeReduction).
    const std::function<int(int, int)> reduction = [this](int w, int h) { return pre_.decodeReduction(w, h); };
    std::atomic<std::int64_t> next{0};
    auto work = [&] {
        for (std::int64_t k = next++; k < count; k = next++) {
            try {
                pre_.tensorInto(source_.reducedImage(first + k, reduction), rows[k]);
                ok[static_cast<size_t>(k)] = 1;
            } catch (const Error &e) {
                errors[static_cast<size_t>(k)] = e.what();
            } catch (const std::exception &e) {
                errors[static_cast<size_t>(k)] = std::string("cannot use image: ") + e.what();
            }
        }
    };
    const int n = static_cast<int>(std::min<std::int64_t>(threads > 0 ? threads : RuntimePolicy::cores(), count));
    std::vector<std::thread> pool;
    for (int t = 1; t < n; ++t)
        pool.emplace_back(work);
    work();
    for (auto &t : pool)
        t.join();

    Batch batch;
    std::vector<std::int64_t> kept;
    for (std::int64_t k = 0; k < count; ++k) {
        if (ok[static_cast<size_t>(k)]) {
            batch.indices.push_back(first + k);
            kept.push_back(k);
        } else {
            batch.skipped.push_back({first + k, source_.name(first + k), errors[static_cast<size_t>(k)]});
        }
    }
    if (batch.indices.empty())
        return batch;
    batch.input = static_cast<std::int64_t>(kept.size()) == count
                      ? rows
                      : rows.index_select(0, torch::tensor(kept, torch::kInt64)).contiguous();
    return batch;
}

} // namespace convscope
