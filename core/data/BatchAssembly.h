#pragma once
// One batch being filled image by image: the rows of an N×C×H×W tensor that any number of threads decode into
// (each image into its own row, so they need no lock), and at the end the Batch with the rows of images that failed
// dropped and those images reported. BatchReader fills one on a few threads; BatchPrefetcher keeps several in
// flight and lets its decode workers and a waiting consumer share them.
#include "data/BatchReader.h"

namespace convscope {

class BatchAssembly {
public:
    /// Rows for images [first, first + count) of the reader's source.
    BatchAssembly(const BatchReader &reader, std::int64_t first, std::int64_t count);

    std::int64_t first() const { return first_; }
    std::int64_t count() const { return count_; }

    /// Decodes image `first + k` into row k. Never throws for a bad image: it is remembered and skipped. Distinct k
    /// may run on different threads at the same time; each k once.
    void decode(std::int64_t k);

    /// The batch, once every row was decoded: rows of failed images dropped (in order), the failures in `skipped`.
    Batch finish();

private:
    const BatchReader &reader_;
    std::int64_t first_, count_;
    torch::Tensor rows_;
    std::vector<char> ok_;
    std::vector<std::string> errors_;
};

} // namespace convscope
