#include "common/NpyFile.h"

#include "common/Error.h"
#include "common/NpyHeader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

namespace convscope {

namespace {

const char *descrOf(torch::ScalarType t)
{
    switch (t) {
    case torch::kFloat32: return "<f4";
    case torch::kFloat64: return "<f8";
    case torch::kInt64: return "<i8";
    case torch::kInt32: return "<i4";
    case torch::kUInt8: return "|u1";
    case torch::kBool: return "|b1";
    default: return nullptr;
    }
}

torch::ScalarType typeOf(const std::string &descr)
{
    static const std::pair<const char *, torch::ScalarType> table[] = {
        {"<f4", torch::kFloat32}, {"<f8", torch::kFloat64}, {"<i8", torch::kInt64},
        {"<i4", torch::kInt32},   {"|u1", torch::kUInt8},   {"|b1", torch::kBool}};
    for (auto &[d, t] : table)
        if (descr == d)
            return t;
    throw DataError("unsupported .npy dtype '" + descr + "'");
}

} // namespace

std::string NpyFile::header(torch::ScalarType type, at::IntArrayRef shape)
{
    const char *descr = descrOf(type);
    if (!descr)
        throw UsageError("cannot write tensors of type " + std::string(c10::toString(type)) + " to .npy");
    std::string dims = "(";
    for (auto d : shape)
        dims += std::to_string(d) + ", ";
    if (shape.size() > 1)
        dims.resize(dims.size() - 2);
    else if (shape.size() == 1)
        dims.pop_back();
    dims += ")";
    std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + dims + ", }";
    // magic(6) + version(2) + len(2) + dict + '\n', padded to a multiple of 64
    const size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(dict.size() & 0xff);
    out += static_cast<char>((dict.size() >> 8) & 0xff);
    return out + dict;
}

void NpyFile::write(const std::string &path, const torch::Tensor &tensor)
{
    torch::Tensor t = tensor.contiguous().cpu();
    const std::string head = header(t.scalar_type(), t.sizes());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw IoError("cannot write '" + path + "': " + std::strerror(errno));
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    out.write(static_cast<const char *>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    out.flush();
    if (!out)
        throw IoError("cannot write '" + path + "': disk full or file not writable");
}

torch::Tensor NpyFile::read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError("cannot open '" + path + "': " + std::strerror(errno));
    in.seekg(0, std::ios::end);
    const auto fileSize = static_cast<std::uint64_t>(std::max<std::streamoff>(0, in.tellg()));
    in.seekg(0);
    // The header is parsed from memory by NpyHeader (the code the fuzz target runs); the data goes straight into the
    // tensor, after checking the file holds as many bytes as the header announces (no allocation on its word alone).
    std::vector<unsigned char> head(static_cast<size_t>(std::min<std::uint64_t>(fileSize, 12)));
    in.read(reinterpret_cast<char *>(head.data()), static_cast<std::streamsize>(head.size()));
    head.resize(NpyHeader::length(head.data(), head.size(), path));
    const size_t preamble = std::min<size_t>(12, head.size());
    if (head.size() > preamble && !in.read(reinterpret_cast<char *>(head.data() + preamble),
                                           static_cast<std::streamsize>(head.size() - preamble)))
        throw DataError("'" + path + "': truncated .npy header");
    const NpyHeader header = NpyHeader::parse(head.data(), head.size(), path);
    if (header.dataBytes() > fileSize - header.dataOffset)
        throw DataError("'" + path + "': truncated .npy data (the header announces " +
                        std::to_string(header.dataBytes()) + " bytes, the file holds " +
                        std::to_string(fileSize - header.dataOffset) + ")");
    std::vector<int64_t> shape(header.shape.begin(), header.shape.end());
    in.seekg(static_cast<std::streamoff>(header.dataOffset));
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(typeOf(header.descr)));
    if (!in.read(static_cast<char *>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes())))
        throw DataError("'" + path + "': truncated .npy data");
    return t;
}

} // namespace convscope
