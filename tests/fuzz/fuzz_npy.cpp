// libFuzzer target: .npy headers (NpyHeader), as NpyFile::read parses them before it allocates the tensor.
// Anything but a DataError — a crash, a sanitizer report, another exception — is a bug.
#include "common/Error.h"
#include "common/NpyHeader.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    try {
        const std::size_t length = NpyHeader::length(data, size, "fuzz.npy");
        const NpyHeader h = NpyHeader::parse(data, size, "fuzz.npy");
        if (h.dataOffset != length || h.dataOffset > size || h.itemSize == 0)
            std::abort();
        // What NpyFile::read does next: take the data only when the file holds all of it.
        const std::uint64_t bytes = h.dataBytes();
        if (bytes <= size - h.dataOffset) {
            unsigned sum = 0;
            for (std::uint64_t i = 0; i < bytes; i += 61)
                sum += data[h.dataOffset + i];
            (void)sum;
        }
    } catch (const DataError &) {
    }
    return 0;
}
