#include "import/OnnxFile.h"

#include "common/Error.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace convscope {

int OnnxFile::defaultOpset(const onnx::ModelProto &model)
{
    for (const auto &op : model.opset_import())
        if (op.domain().empty() || op.domain() == "ai.onnx")
            return static_cast<int>(op.version());
    return 0;
}

onnx::ModelProto OnnxFile::parse(const void *data, std::size_t size, const std::string &file)
{
    if (size == 0)
        throw ModelLoadError("model file '" + file + "' is empty (0 bytes)");
    if (size > (std::size_t(1) << 31) - 1)
        throw UnsupportedModelError("'" + file + "' is larger than 2 GB; store its weights as external data "
                                    "(onnx.save(..., save_as_external_data=True))");
    onnx::ModelProto model;
    google::protobuf::io::CodedInputStream in(static_cast<const std::uint8_t *>(data), static_cast<int>(size));
    in.SetTotalBytesLimit(static_cast<int>(size));
    in.SetRecursionLimit(64);
    if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
        throw ModelLoadError("'" + file + "' is not a readable ONNX model (the file is truncated, damaged, or in "
                             "another format)");
    if (model.ir_version() <= 0 || !model.has_graph())
        throw ModelLoadError("'" + file + "' is not an ONNX model (it has no IR version or no graph)");
    const int opset = defaultOpset(model);
    if (opset == 0)
        throw UnsupportedModelError("'" + file + "' imports no opset of the standard ONNX domain");
    if (opset < minOpset || opset > maxOpset)
        throw UnsupportedModelError("'" + file + "' uses ONNX opset " + std::to_string(opset) + "; Convscope reads opsets " +
                                    std::to_string(minOpset) + "–" + std::to_string(maxOpset) +
                                    " (convert it with onnx.version_converter)");
    if (model.graph().node_size() == 0)
        throw UnsupportedModelError("the ONNX graph in '" + file + "' has no nodes");
    return model;
}

onnx::ModelProto OnnxFile::read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError("cannot read model file '" + path + "'");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse(bytes.data(), bytes.size(), path);
}

bool OnnxFile::looksLikeOnnx(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    unsigned char first = 0;
    if (!in.read(reinterpret_cast<char *>(&first), 1))
        return false;
    return first == 0x08; // field 1 (ir_version), varint: every ONNX file starts with it
}

std::vector<std::int64_t> OnnxFile::imageInputShape(const onnx::ModelProto &model)
{
    std::vector<std::int64_t> shape;
    for (const auto &in : model.graph().input()) {
        bool initializer = false;
        for (const auto &t : model.graph().initializer())
            initializer = initializer || t.name() == in.name();
        if (initializer)
            continue;
        for (const auto &d : in.type().tensor_type().shape().dim())
            shape.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
        if (isChannelsLastImage(model, in.name()))
            shape = {shape[0], shape[3], shape[1], shape[2]};
        break;
    }
    return shape;
}

bool OnnxFile::isChannelsLastImage(const onnx::ModelProto &model, const std::string &name)
{
    const onnx::ValueInfoProto *input = nullptr;
    for (const auto &in : model.graph().input())
        if (in.name() == name)
            input = &in;
    if (!input || !input->type().tensor_type().has_shape() || input->type().tensor_type().shape().dim_size() != 4)
        return false;
    for (const auto &t : model.graph().initializer())
        if (t.name() == name)
            return false;
    int transposes = 0;
    for (const auto &node : model.graph().node()) {
        if (std::find(node.input().begin(), node.input().end(), name) == node.input().end())
            continue;
        if (node.op_type() != "Transpose" || !(node.domain().empty() || node.domain() == "ai.onnx") ||
            node.input_size() != 1)
            return false;
        std::vector<std::int64_t> perm;
        for (const auto &a : node.attribute())
            if (a.name() == "perm")
                perm.assign(a.ints().begin(), a.ints().end());
        if (perm != std::vector<std::int64_t>{0, 3, 1, 2})
            return false;
        ++transposes;
    }
    for (const auto &out : model.graph().output())
        if (out.name() == name)
            return false;
    return transposes > 0;
}

std::map<std::string, std::string> OnnxFile::describe(const onnx::ModelProto &model)
{
    std::map<std::string, std::string> out;
    out["format"] = "ONNX (IR version " + std::to_string(model.ir_version()) + ")";
    out["opset"] = std::to_string(defaultOpset(model));
    std::string producer = model.producer_name();
    if (!model.producer_version().empty())
        producer += (producer.empty() ? "" : " ") + model.producer_version();
    if (!producer.empty())
        out["producer"] = producer;
    if (!model.domain().empty())
        out["domain"] = model.domain();
    if (model.model_version() != 0)
        out["model version"] = std::to_string(model.model_version());
    if (!model.doc_string().empty())
        out["doc string"] = model.doc_string();
    if (!model.graph().name().empty())
        out["graph"] = model.graph().name();
    for (const auto &kv : model.metadata_props())
        out["metadata: " + kv.key()] = kv.value();
    return out;
}

} // namespace convscope
