#include "BatchReader.h"

#include "Error.h"
#include "RuntimePolicy.h"

#include <atomic>
#include <thread>

namespace convscope {

Batch BatchReader::read(std::int64_t first, std::int64_t count, int threads) const
{
    count = std::max<std::int64_t>(0, std::min(count, source_.size() - first));
    std::vector<torch::Tensor> tensors(static_cast<size_t>(count));
    std::vector<std::string> errors(static_cast<size_t>(count));
    std::atomic<std::int64_t> next{0};
    auto work = [&] {
        for (std::int64_t k = next++; k < count; k = next++) {
            try {
                tensors[k] = pre_.tensor(source_.image(first + k));
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
    std::vector<torch::Tensor> good;
    for (std::int64_t k = 0; k < count; ++k) {
        if (tensors[k].defined()) {
            good.push_back(tensors[k]);
            batch.indices.push_back(first + k);
        } else {
            batch.skipped.push_back({first + k, source_.name(first + k), errors[k]});
        }
    }
    if (!good.empty())
        batch.input = torch::stack(good);
    return batch;
}

} // namespace convscope
