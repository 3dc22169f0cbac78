// libFuzzer target: a scan's layout as read back from the project catalogue (ScanLayout::parse, what
// ProjectStore::scan runs on the `layers` and `features` columns). The input is the `layers` JSON, a newline, then
// the `features` JSON. SQLite itself is not fuzzed. Anything but a DataError, or a layout that breaks its
// promises (one channel count per layer, counts in range), is a bug.
#include "common/Error.h"
#include "scan/ScanLayout.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char *data, std::size_t size)
{
    using namespace convscope;
    const QByteArray all(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const qsizetype split = all.indexOf('\n');
    const QByteArray layers = split < 0 ? all : all.left(split);
    const QByteArray features = split < 0 ? QByteArray() : all.mid(split + 1);
    try {
        const ScanLayout l = ScanLayout::parse(layers, features, "/fuzz/project");
        if (l.layers.size() != l.channels.size())
            std::abort();
        for (std::int64_t c : l.channels)
            if (c < 1 || c > (std::int64_t(1) << 24))
                std::abort();
        for (const auto &f : l.features)
            if (f.name.empty() || f.layer.empty() || f.dims < 1 || f.dims > (std::int64_t(1) << 28))
                std::abort();
        // What ProjectStore::topOfLayer does with a layer's channel count.
        if (!l.channels.empty()) {
            std::vector<std::vector<int>> perChannel(static_cast<size_t>(l.channels.back()));
            (void)perChannel;
        }
    } catch (const DataError &) {
    }
    return 0;
}
