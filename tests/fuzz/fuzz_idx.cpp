// libFuzzer target: IDX images and labels files (gzip or plain), as IdxSource reads them (IdxFile).
// Anything but a DataError — a crash, a sanitizer report, another exception — is a bug.
#include "common/Error.h"
#include "data/IdxFile.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    std::vector<unsigned char> decoded;
    try {
        decoded = IdxFile::decode(data, size, "fuzz-images-idx3-ubyte");
    } catch (const DataError &) {
        return 0;
    }
    try {
        const IdxFile::Images im = IdxFile::images(decoded, "fuzz-images-idx3-ubyte");
        const std::uint64_t pixels = static_cast<std::uint64_t>(im.count) * im.rows * im.cols;
        if (im.offset + pixels > decoded.size())
            std::abort(); // images() promised every announced pixel is there
        unsigned sum = 0;
        for (std::uint64_t i = 0; i < pixels; i += 97)
            sum += decoded[im.offset + i];
        (void)sum;
    } catch (const DataError &) {
    }
    try {
        // The same bytes as a labels file, for as many images as its header announces.
        const std::int64_t count = decoded.size() >= 8 ? (std::int64_t(decoded[4]) << 24 | decoded[5] << 16 |
                                                          decoded[6] << 8 | decoded[7])
                                                       : 0;
        const std::vector<int> labels = IdxFile::labels(decoded, count, "fuzz-labels-idx1-ubyte", "fuzz");
        if (static_cast<std::int64_t>(labels.size()) != count)
            std::abort();
    } catch (const DataError &) {
    }
    return 0;
}
