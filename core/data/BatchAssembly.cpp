#include "data/BatchAssembly.h"

#include "common/Error.h"

namespace convscope {

BatchAssembly::BatchAssembly(const BatchReader &reader, std::int64_t first, std::int64_t count)
    : reader_(reader), first_(first), count_(std::max<std::int64_t>(0, count)),
      ok_(static_cast<size_t>(count_), 0), errors_(static_cast<size_t>(count_))
{
    const InputSpec &spec = reader_.preprocessor().spec();
    rows_ = torch::empty({count_, spec.channels, spec.height, spec.width});
}

void BatchAssembly::decode(std::int64_t k)
{
    const auto at = static_cast<size_t>(k);
    try {
        reader_.decodeInto(first_ + k, rows_[k]);
        ok_[at] = 1;
    } catch (const Error &e) {
        errors_[at] = e.what();
    } catch (const std::exception &e) {
        errors_[at] = std::string("cannot use image: ") + e.what();
    }
}

Batch BatchAssembly::finish()
{
    Batch batch;
    std::vector<std::int64_t> kept;
    for (std::int64_t k = 0; k < count_; ++k) {
        if (ok_[static_cast<size_t>(k)]) {
            batch.indices.push_back(first_ + k);
            kept.push_back(k);
        } else {
            batch.skipped.push_back(
                {first_ + k, reader_.source().name(first_ + k), errors_[static_cast<size_t>(k)]});
        }
    }
    if (batch.indices.empty())
        return batch;
    batch.input = static_cast<std::int64_t>(kept.size()) == count_
                      ? rows_
                      : rows_.index_select(0, torch::tensor(kept, torch::kInt64)).contiguous();
    return batch;
}

} // namespace convscope
