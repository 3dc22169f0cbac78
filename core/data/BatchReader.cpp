#include "data/BatchReader.h"

#include "common/Error.h"
#include "common/RuntimePolicy.h"

#include <atomic>
#include <thread>

namespace convscope {

Batch BatchReader::read(std::int64_t first, std::int64_t count, int threads) const
{
    count = std::max<std::int64_t>(0, std::min(count, source_.size() - first));
    std::vector<cv::Mat> fitted(static_cast<size_t>(count));
    std::vector<std::string> errors(static_cast<size_t>(count));
    std::atomic<std::int64_t> next{0};
    auto work = [&] {
        for (std::int64_t k = next++; k < count; k = next++) {
            try {
                cv::Mat f = pre_.fit(source_.image(first + k));
                const InputSpec &spec = pre_.spec();
                if (f.depth() != CV_32F || f.channels() != spec.channels || f.rows != spec.height ||
                    f.cols != spec.width)
                    throw DataError("preprocessing gave a " + std::to_string(f.cols) + "×" + std::to_string(f.rows) +
                                    "×" + std::to_string(f.channels()) + " image, not the model's input size");
                fitted[k] = f.isContinuous() ? f : f.clone();
            } catch (const Error &e) {
                errors[k] = e.what();
            } catch (const std::exception &e) {
                errors[k] = std::string("cannot use image: ") + e.what();
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
    for (std::int64_t k = 0; k < count; ++k) {
        if (!fitted[k].empty())
            batch.indices.push_back(first + k);
        else
            batch.skipped.push_back({first + k, source_.name(first + k), errors[k]});
    }
    if (batch.indices.empty())
        return batch;
    const InputSpec &spec = pre_.spec();
    batch.input = torch::empty({static_cast<std::int64_t>(batch.indices.size()), spec.channels, spec.height, spec.width});
    std::int64_t row = 0;
    for (std::int64_t k = 0; k < count; ++k)
        if (!fitted[k].empty())
            Preprocessor::copyInto(fitted[k], batch.input[row++]);
    pre_.normaliseInPlace(batch.input); // one pass for the batch: same arithmetic as per image
    return batch;
}

} // namespace convscope
