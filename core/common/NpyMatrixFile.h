#pragma once
// A rows × cols float32 .npy matrix on disk that is filled a block of rows at a time (the per-image feature
// vectors of a scan: the matrix never sits in memory). Created full size with NaN rows, so rows not yet written
// (or of skipped images) read as NaN in numpy; reopening an existing file checks its shape and continues.
#include <torch/types.h>

#include <QFile>

#include <string>

namespace convscope {

class NpyMatrixFile {
public:
    /// Opens `path` for writing rows, creating it (rows × cols of NaN) when missing. Throws IoError when it cannot
    /// be created, DataError when an existing file has another shape or type.
    NpyMatrixFile(const std::string &path, std::int64_t rows, std::int64_t cols);

    /// Writes `block` (n × cols, any float type) at rows [first, first + n). Throws IoError (disk full...).
    void writeRows(std::int64_t first, const torch::Tensor &block);
    /// Writes one row.
    void writeRow(std::int64_t row, const torch::Tensor &vector) { writeRows(row, vector.reshape({1, -1})); }
    /// Pushes written rows to the operating system (they survive the process being killed).
    void flush();

    std::int64_t rows() const { return rows_; }
    std::int64_t cols() const { return cols_; }

private:
    QFile file_;
    std::int64_t rows_, cols_;
    qint64 dataOffset_ = 0;
};

} // namespace convscope
