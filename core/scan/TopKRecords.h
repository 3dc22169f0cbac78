#pragma once
// The binary records a project catalogue keeps for top-k entries: one blob per finished batch with the entries
// every tracker accepted in it (the resume log), and one blob per (layer, ranking) with the final top k of every
// channel. A row per entry cost more than the forward pass on deep models with all their layers (SQLite and
// QVariant work for hundreds of thousands of rows per batch); a blob is one memcpy per entry.
//
// Little-endian, fixed-size records, no header (the catalogue row says what the blob is):
//   accepted: tracker u32, channel u32, image i64, value f32, y i32, x i32   (28 bytes)
//   top:      C × k slots of  image i64 (-1 = empty), value f32, y i32, x i32  (20 bytes)
// Readers check sizes and ranges and throw DataError for a damaged blob; they never read out of bounds.
#include "scan/TopKEntry.h"

#include <QByteArray>

#include <vector>

namespace convscope {

class TopKRecords {
public:
    /// Packs what one batch accepted, per tracker (Scan::trackerIndex order).
    static QByteArray packAccepted(const std::vector<std::vector<TopKAccepted>> &accepted);
    /// Appends a blob's entries to `out` (one vector per tracker; `out.size()` is the tracker count).
    /// Throws DataError when the blob is not a whole number of records or names a tracker out of range.
    static void unpackAccepted(const QByteArray &blob, std::vector<std::vector<TopKAccepted>> &out);

    /// Packs a tracker's final top k (TopKTracker::top of every channel, at most k each): channels × k slots,
    /// empty ones as image -1.
    static QByteArray packTop(const std::vector<std::vector<TopKEntry>> &top, int k);
    /// The entries of every channel, best first, without the empty slots. Throws DataError when the blob does not
    /// hold `channels` × `k` slots.
    static std::vector<std::vector<TopKEntry>> unpackTop(const QByteArray &blob, std::int64_t channels,
                                                                  int k);
};

} // namespace convscope
