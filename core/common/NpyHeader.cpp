#include "common/NpyHeader.h"

#include "common/Error.h"

#include <cstring>
#include <limits>

namespace convscope {

namespace {

constexpr std::size_t kMaxDictLength = std::size_t(1) << 20;
constexpr std::size_t kMaxDims = 32;
constexpr std::uint64_t kMaxDataBytes = std::uint64_t(1) << 62;

/// What the header's dictionary holds, read by DictReader.
struct DictValues {
    std::string descr;
    bool fortran = false;
    std::vector<std::int64_t> shape;
    bool haveDescr = false, haveShape = false;
};

/// A cursor over the Python dict literal numpy writes. Reads only what headers contain (quoted strings, True /
/// False, tuples of whole numbers); throws DataError on anything else. No recursion, no regex: linear in the length.
class DictReader {
public:
    DictReader(const std::string &text, const std::string &file) : text_(text), file_(file) {}

    DictValues read()
    {
        DictValues v;
        expect('{');
        while (!peek('}')) {
            const std::string key = quoted();
            expect(':');
            value(key, v);
            if (!peek('}'))
                expect(',');
        }
        expect('}');
        return v;
    }

private:
    [[noreturn]] void fail(const std::string &what) const
    {
        throw DataError("'" + file_ + "': malformed .npy header (" + what + " at character " + std::to_string(at_) +
                        ")");
    }
    void skipSpace()
    {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n'))
            ++at_;
    }
    bool peek(char c)
    {
        skipSpace();
        return at_ < text_.size() && text_[at_] == c;
    }
    void expect(char c)
    {
        if (!peek(c))
            fail(std::string("expected '") + c + "'");
        ++at_;
    }
    bool word(const char *w)
    {
        skipSpace();
        const std::size_t n = std::strlen(w);
        if (text_.compare(at_, n, w) != 0)
            return false;
        at_ += n;
        return true;
    }
    std::string quoted()
    {
        skipSpace();
        if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"'))
            fail("expected a quoted name");
        const char quote = text_[at_++];
        const std::size_t end = text_.find(quote, at_);
        if (end == std::string::npos)
            fail("unterminated string");
        std::string s = text_.substr(at_, end - at_);
        at_ = end + 1;
        return s;
    }
    std::int64_t number()
    {
        skipSpace();
        const std::size_t start = at_;
        std::int64_t n = 0;
        while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
            if (n > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
                throw DataError("'" + file_ + "': implausible .npy shape");
            n = n * 10 + (text_[at_++] - '0');
        }
        if (at_ == start)
            fail("expected a whole number");
        if (at_ < text_.size() && text_[at_] == 'L') // written by numpy under Python 2
            ++at_;
        return n;
    }
    std::vector<std::int64_t> tuple()
    {
        expect('(');
        std::vector<std::int64_t> dims;
        while (!peek(')')) {
            if (dims.size() == kMaxDims)
                throw DataError("'" + file_ + "': .npy arrays of more than " + std::to_string(kMaxDims) +
                                " dimensions are not supported");
            dims.push_back(number());
            if (!peek(')'))
                expect(',');
        }
        expect(')');
        return dims;
    }
    void value(const std::string &key, DictValues &v)
    {
        if (key == "descr") {
            if (!peek('\'') && !peek('"'))
                throw DataError("'" + file_ + "': structured .npy dtypes are not supported (only plain numbers)");
            v.descr = quoted();
            v.haveDescr = true;
        } else if (key == "fortran_order") {
            if (word("True"))
                v.fortran = true;
            else if (!word("False"))
                fail("expected True or False");
        } else if (key == "shape") {
            v.shape = tuple();
            v.haveShape = true;
        } else {
            fail("unknown key '" + key + "'");
        }
    }

    const std::string &text_;
    const std::string &file_;
    std::size_t at_ = 0;
};

} // namespace

std::size_t NpyHeader::itemSizeOf(const std::string &descr)
{
    static const std::pair<const char *, std::size_t> table[] = {{"<f4", 4}, {"<f8", 8}, {"<i8", 8},
                                                                 {"<i4", 4}, {"|u1", 1}, {"|b1", 1}};
    for (const auto &[d, size] : table)
        if (descr == d)
            return size;
    return 0;
}

std::size_t NpyHeader::length(const unsigned char *bytes, std::size_t size, const std::string &file)
{
    if (size < 8 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
        throw DataError("'" + file + "' is not a .npy file");
    const unsigned major = bytes[6];
    if (major < 1 || major > 3)
        throw DataError("'" + file + "': .npy format version " + std::to_string(major) + " is not supported");
    const std::size_t preamble = major == 1 ? 10 : 12;
    if (size < preamble)
        throw DataError("'" + file + "': truncated .npy header");
    std::size_t dict = std::size_t(bytes[8]) | (std::size_t(bytes[9]) << 8);
    if (major > 1)
        dict |= (std::size_t(bytes[10]) << 16) | (std::size_t(bytes[11]) << 24);
    if (dict > kMaxDictLength)
        throw DataError("'" + file + "': implausible .npy header length");
    return preamble + dict;
}

NpyHeader NpyHeader::parse(const unsigned char *bytes, std::size_t size, const std::string &file)
{
    const std::size_t total = length(bytes, size, file);
    if (size < total)
        throw DataError("'" + file + "': truncated .npy header");
    const std::size_t preamble = bytes[6] == 1 ? 10 : 12;
    const std::string text(reinterpret_cast<const char *>(bytes) + preamble, total - preamble);
    const DictValues v = DictReader(text, file).read();
    if (!v.haveDescr)
        throw DataError("'" + file + "': .npy header without dtype");
    if (!v.haveShape)
        throw DataError("'" + file + "': .npy header without shape");
    if (v.fortran)
        throw DataError("'" + file + "': Fortran-ordered .npy files are not supported");
    NpyHeader h;
    h.descr = v.descr;
    h.itemSize = itemSizeOf(v.descr);
    if (h.itemSize == 0)
        throw DataError("unsupported .npy dtype '" + v.descr + "' in '" + file + "'");
    h.shape = v.shape;
    h.dataOffset = total;
    std::uint64_t bytesNeeded = h.itemSize; // every prefix of the product stays below 2^62: count() cannot overflow
    for (std::int64_t d : h.shape) {
        if (d != 0 && bytesNeeded > kMaxDataBytes / static_cast<std::uint64_t>(d))
            throw DataError("'" + file + "': implausible .npy shape (more than 2^62 bytes of data)");
        bytesNeeded *= static_cast<std::uint64_t>(d);
    }
    return h;
}

std::uint64_t NpyHeader::count() const
{
    std::uint64_t n = 1;
    for (std::int64_t d : shape)
        n *= static_cast<std::uint64_t>(d);
    return n;
}

} // namespace convscope
