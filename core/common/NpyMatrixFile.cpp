#include "common/NpyMatrixFile.h"

#include "common/Error.h"
#include "common/NpyFile.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace convscope {

NpyMatrixFile::NpyMatrixFile(const std::string &path, std::int64_t rows, std::int64_t cols)
    : file_(QString::fromStdString(path)), rows_(rows), cols_(cols)
{
    const std::string head = NpyFile::header(torch::kFloat32, {rows, cols});
    dataOffset_ = static_cast<qint64>(head.size());
    const qint64 size = dataOffset_ + rows * cols * static_cast<qint64>(sizeof(float));
    if (file_.exists()) {
        if (!file_.open(QIODevice::ReadWrite))
            throw IoError("cannot open '" + path + "': " + file_.errorString().toStdString());
        const QByteArray existing = file_.read(dataOffset_);
        if (existing.toStdString() != head || file_.size() != size)
            throw DataError("'" + path + "' is not a " + std::to_string(rows) + " × " + std::to_string(cols) +
                            " float32 matrix (delete it to start over)");
        return;
    }
    if (!file_.open(QIODevice::ReadWrite))
        throw IoError("cannot create '" + path + "': " + file_.errorString().toStdString());
    bool ok = file_.write(head.data(), dataOffset_) == dataOffset_;
    // NaN everywhere, a megabyte at a time.
    const std::vector<float> nan(static_cast<size_t>(std::max<std::int64_t>(1, std::min<std::int64_t>(rows * cols, 1 << 18))),
                                 std::numeric_limits<float>::quiet_NaN());
    for (std::int64_t left = rows * cols; ok && left > 0;) {
        const std::int64_t n = std::min<std::int64_t>(left, static_cast<std::int64_t>(nan.size()));
        const qint64 bytes = n * static_cast<qint64>(sizeof(float));
        ok = file_.write(reinterpret_cast<const char *>(nan.data()), bytes) == bytes;
        left -= n;
    }
    if (!ok || !file_.flush()) {
        const std::string why = std::strerror(errno);
        file_.close();
        file_.remove();
        throw IoError("cannot write '" + path + "': " + why + " (disk full?)");
    }
}

void NpyMatrixFile::writeRows(std::int64_t first, const torch::Tensor &block)
{
    torch::Tensor b = block.to(torch::kFloat32).contiguous();
    if (b.dim() != 2 || b.size(1) != cols_ || first < 0 || first + b.size(0) > rows_)
        throw UsageError("rows [" + std::to_string(first) + ", +" + std::to_string(b.dim() ? b.size(0) : 0) +
                         ") of width " + std::to_string(b.dim() == 2 ? b.size(1) : 0) + " do not fit a " +
                         std::to_string(rows_) + " × " + std::to_string(cols_) + " matrix");
    const qint64 bytes = b.numel() * static_cast<qint64>(sizeof(float));
    if (!file_.seek(dataOffset_ + first * cols_ * static_cast<qint64>(sizeof(float))) ||
        file_.write(reinterpret_cast<const char *>(b.data_ptr<float>()), bytes) != bytes || !file_.flush())
        throw IoError("cannot write '" + file_.fileName().toStdString() + "': " + std::strerror(errno) +
                      " (disk full?)");
}

void NpyMatrixFile::flush()
{
    if (!file_.flush())
        throw IoError("cannot write '" + file_.fileName().toStdString() + "': " + std::strerror(errno) +
                      " (disk full?)");
}

} // namespace convscope
