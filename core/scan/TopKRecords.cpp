#include "scan/TopKRecords.h"

#include "common/Error.h"

#include <QtEndian>

#include <cstring>

namespace convscope {
namespace {

constexpr int kAcceptedBytes = 28, kTopBytes = 20;

template <typename T> void put(char *&at, T value)
{
    qToLittleEndian(value, at);
    at += sizeof(T);
}

template <typename T> T get(const char *&at)
{
    const T value = qFromLittleEndian<T>(at);
    at += sizeof(T);
    return value;
}

void putFloat(char *&at, float value)
{
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    put(at, bits);
}

float getFloat(const char *&at)
{
    const auto bits = get<std::uint32_t>(at);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

} // namespace

QByteArray TopKRecords::packAccepted(const std::vector<std::vector<TopKAccepted>> &accepted)
{
    qsizetype count = 0;
    for (const auto &t : accepted)
        count += static_cast<qsizetype>(t.size());
    QByteArray blob(count * kAcceptedBytes, Qt::Uninitialized);
    char *at = blob.data();
    for (size_t t = 0; t < accepted.size(); ++t)
        for (const auto &a : accepted[t]) {
            put(at, static_cast<std::uint32_t>(t));
            put(at, static_cast<std::uint32_t>(a.channel));
            put(at, static_cast<std::int64_t>(a.entry.image));
            putFloat(at, a.entry.value);
            put(at, static_cast<std::int32_t>(a.entry.y));
            put(at, static_cast<std::int32_t>(a.entry.x));
        }
    return blob;
}

void TopKRecords::unpackAccepted(const QByteArray &blob, std::vector<std::vector<TopKAccepted>> &out)
{
    if (blob.size() % kAcceptedBytes != 0)
        throw DataError("a batch record of the project catalogue is damaged (" + std::to_string(blob.size()) +
                        " bytes)");
    const char *at = blob.constData();
    for (qsizetype r = 0; r < blob.size() / kAcceptedBytes; ++r) {
        const auto tracker = get<std::uint32_t>(at);
        const auto channel = get<std::uint32_t>(at);
        TopKEntry e;
        e.image = get<std::int64_t>(at);
        e.value = getFloat(at);
        e.y = get<std::int32_t>(at);
        e.x = get<std::int32_t>(at);
        if (tracker >= out.size())
            throw DataError("a batch record of the project catalogue is damaged (tracker " + std::to_string(tracker) +
                            " of " + std::to_string(out.size()) + ")");
        out[tracker].push_back({static_cast<std::int64_t>(channel), e});
    }
}

QByteArray TopKRecords::packTop(const std::vector<std::vector<TopKEntry>> &top, int k)
{
    QByteArray blob(static_cast<qsizetype>(top.size()) * k * kTopBytes, Qt::Uninitialized);
    char *at = blob.data();
    for (const auto &channel : top) {
        for (int j = 0; j < k; ++j) {
            const TopKEntry e = j < static_cast<int>(channel.size()) ? channel[static_cast<size_t>(j)] : TopKEntry{};
            put(at, static_cast<std::int64_t>(e.image));
            putFloat(at, e.value);
            put(at, static_cast<std::int32_t>(e.y));
            put(at, static_cast<std::int32_t>(e.x));
        }
    }
    return blob;
}

std::vector<std::vector<TopKEntry>> TopKRecords::unpackTop(const QByteArray &blob, std::int64_t channels,
                                                                    int k)
{
    if (channels < 0 || k < 0 || blob.size() != static_cast<qsizetype>(channels) * k * kTopBytes)
        throw DataError("a top-k record of the project catalogue is damaged (" + std::to_string(blob.size()) +
                        " bytes for " + std::to_string(channels) + " channels × k " + std::to_string(k) + ")");
    std::vector<std::vector<TopKEntry>> out(static_cast<size_t>(channels));
    const char *at = blob.constData();
    for (auto &channel : out)
        for (int j = 0; j < k; ++j) {
            TopKEntry e;
            e.image = get<std::int64_t>(at);
            e.value = getFloat(at);
            e.y = get<std::int32_t>(at);
            e.x = get<std::int32_t>(at);
            if (e.image >= 0)
                channel.push_back(e);
        }
    return out;
}

} // namespace convscope
