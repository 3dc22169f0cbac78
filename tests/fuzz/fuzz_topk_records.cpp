// libFuzzer target: the binary top-k records of a project catalogue (TopKRecords), as a resumed scan and the Units
// tab read them. Anything but a DataError — a crash, a sanitizer report, another exception — is a bug.
#include "common/Error.h"
#include "scan/TopKRecords.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    if (size < 2)
        return 0;
    // The first two bytes choose what the catalogue row says about the blob: trackers, and channels × k.
    const int trackers = data[0] % 8, k = data[1] % 12;
    const QByteArray blob(reinterpret_cast<const char *>(data + 2), static_cast<qsizetype>(size - 2));
    try {
        std::vector<std::vector<TopKAccepted>> accepted(static_cast<size_t>(trackers));
        TopKRecords::unpackAccepted(blob, accepted);
        for (const auto &t : accepted)
            for (const auto &a : t)
                if (a.channel < 0)
                    std::abort();
    } catch (const DataError &) {
    }
    try {
        const std::int64_t channels = k > 0 ? static_cast<std::int64_t>(blob.size()) / (20 * k) : 3;
        const auto top = TopKRecords::unpackTop(blob, channels, k);
        if (static_cast<std::int64_t>(top.size()) != channels)
            std::abort();
        for (const auto &c : top)
            if (static_cast<int>(c.size()) > k)
                std::abort();
        // Packing what was read gives the bytes back, but for empty slots (image < 0), which pack as -1.
        if (TopKRecords::packTop(top, k).size() != blob.size())
            std::abort();
    } catch (const DataError &) {
    }
    return 0;
}
