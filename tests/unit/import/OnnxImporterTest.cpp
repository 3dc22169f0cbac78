// ONNX models exported from PyTorch (tests/fixtures/make_models.py) load through Model::load and give, layer by
// layer, what PyTorch's forward hooks saw; damaged and unsupported files give clear messages.
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "explain/Reconstructor.h"
#include "import/OnnxFile.h"
#include "import/OnnxImporter.h"
#include "model/Model.h"
#include "HookReference.h"
#include "TestPaths.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <ATen/Parallel.h>

#include <fstream>
#include <map>
#include <set>
#include <tuple>

using namespace convscope;

namespace {

using hookref::RefCall;
using hookref::readCalls;

bool startsWith(const std::string &s, const std::string &prefix) { return s.rfind(prefix, 0) == 0; }

/// Compares every layer of the imported model with the hook record of the same name. A convolution followed by a
/// batch norm is compared with the batch norm's output (the exporter folded the two).
void checkOnnx(const std::string &arch, const std::string &file)
{
    hookref::OneThread oneThread;
    const std::string dir = testpaths::fixtures() + "/" + arch;
    const std::string path = testpaths::fixtures() + "/" + file;
    INFO(file);
    auto model = Model::load(path);
    CHECK(model->format() == "ONNX");
    const auto refs = readCalls(dir);
    std::map<std::string, size_t> refIndex;
    for (size_t i = 0; i < refs.size(); ++i)
        refIndex[refs[i].name] = i;

    torch::Tensor input = NpyFile::read(dir + "/input.npy");
    const auto &probe = model->probe();
    auto out = probe.run(input, probe.capturable());
    auto capturable = probe.capturable();
    std::map<std::string, torch::Tensor> ours;
    for (size_t k = 0; k < capturable.size(); ++k)
        ours[model->layers()[static_cast<size_t>(capturable[k])].path] = out.captured[k];

    size_t compared = 0, convs = 0, convsFound = 0;
    for (size_t i = 0; i < refs.size(); ++i) {
        const RefCall &ref = refs[i];
        const bool conv = startsWith(ref.type, "Conv") && ref.type != "Conv2dNormActivation";
        convs += conv ? 1 : 0;
        auto it = ours.find(ref.name);
        if (it == ours.end() || ref.file.empty())
            continue;
        convsFound += conv ? 1 : 0;
        std::string expectedFile = ref.file;
        if (conv && i + 1 < refs.size() && startsWith(refs[i + 1].type, "BatchNorm") && !ours.count(refs[i + 1].name))
            expectedFile = refs[i + 1].file;
        INFO(ref.name << " (" << ref.type << ", compared with " << expectedFile << ")");
        torch::Tensor expected = NpyFile::read(dir + "/" + expectedFile);
        REQUIRE(it->second.sizes() == expected.sizes());
        const double scale = std::max(1.0, expected.abs().max().item<double>());
        CHECK((it->second - expected).abs().max().item<double>() <= 1e-4 * scale);
        ++compared;
    }
    // Receptive fields follow the same graph arithmetic as for the scripted model.
    // (the scripted twin at the ONNX model's input size, which the file declares)
    QTemporaryDir sidecarDir;
    const std::string sidecar = sidecarDir.filePath("twin.json").toStdString();
    std::ofstream(sidecar) << "{\"input\": {\"width\": " << model->input().width << ", \"height\": "
                           << model->input().height << ", \"channels\": 3}}";
    Model::Options twin;
    twin.sidecar = sidecar;
    auto scripted = Model::load(testpaths::fixtures() + "/" + arch + ".scripted.pt", twin);
    int fieldsCompared = 0;
    for (const auto &layer : model->layers()) {
        const LayerInfo *twin = nullptr;
        for (const auto &l : scripted->layers())
            if (l.path == layer.path)
                twin = &l;
        if (!twin || !layer.capturable)
            continue;
        INFO("field of " << layer.path << ": " << layer.field.describe() << " vs " << twin->field.describe());
        CHECK(layer.field.scope == twin->field.scope);
        CHECK(layer.field.exact == twin->field.exact);
        if (layer.field.scope == ReceptiveField::Scope::Local) {
            CHECK(layer.field.y.size == twin->field.y.size);
            CHECK(layer.field.y.stride == twin->field.y.stride);
            CHECK(layer.field.x.offset == twin->field.x.offset);
        }
        ++fieldsCompared;
    }
    CHECK(fieldsCompared >= static_cast<int>(convs));
    // The exporter's scope names give PyTorch's module paths: every convolution of the model is a layer by the
    // same name.
    INFO("convolutions found by name: " << convsFound << " of " << convs << "; layers compared: " << compared);
    CHECK(convsFound == convs);
    CHECK(compared >= convs);
    torch::Tensor logits = Model::firstTensor(out.modelOutput);
    torch::Tensor expected = NpyFile::read(dir + "/output.npy");
    CHECK((logits - expected).abs().max().item<double>() <= 1e-4 * std::max(1.0, expected.abs().max().item<double>()));
    CHECK(torch::equal(logits.argmax(1), expected.argmax(1)));
}

std::vector<std::pair<std::string, std::string>> onnxFixtures()
{
    std::vector<std::pair<std::string, std::string>> out;
    std::ifstream archs(testpaths::fixtures() + "/archs.txt");
    std::string arch;
    const QDir dir(QString::fromStdString(testpaths::fixtures()));
    while (std::getline(archs, arch)) {
        if (arch.empty())
            continue;
        for (const QString &f : dir.entryList({QString::fromStdString(arch) + ".onnx",
                                               QString::fromStdString(arch) + ".*.onnx"}, QDir::Files))
            if (f.section('.', 0, 0).toStdString() == arch)
                out.emplace_back(arch, f.toStdString());
    }
    return out;
}

std::string writeBytes(const QTemporaryDir &dir, const std::string &name, const std::string &bytes)
{
    const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string fileBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

template <typename E>
std::string messageOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const E &e) {
        return e.what();
    }
    FAIL("no exception");
    return {};
}

} // namespace

TEST_CASE("ONNX exports of the torchvision zoo give PyTorch's forward-hook activations", "[import][onnx]")
{
    const auto files = onnxFixtures();
    // Every architecture of the fixtures exports, at opset 13 at least.
    REQUIRE(files.size() >= 15);
    for (const auto &[arch, file] : files) {
        SECTION(file) { checkOnnx(arch, file); }
    }
}

TEST_CASE("ONNX import names layers after PyTorch's modules and calls a module again for its second call", "[import][onnx]")
{
    auto model = Model::load(testpaths::fixtures() + "/resnet18.onnx");
    const auto &l = model->layer("layer1.0.conv1");
    CHECK(l.type == "Conv");
    CHECK(l.kind == LayerKind::Conv);
    CHECK(l.params == 64 * 64 * 9 + 64); // BN folded in: a bias now
    CHECK(model->layer("layer1.0.relu#2").type == "Relu");
    CHECK(model->layer("layer1.0").kind == LayerKind::Block);
    CHECK(model->layer("fc").type == "Gemm");
    CHECK(model->layer("fc").kind == LayerKind::Linear);
    CHECK(model->formatDetails().at("producer").find("pytorch") == 0);
    CHECK(model->formatDetails().at("opset") == "13");
}

TEST_CASE("a damaged or foreign ONNX file gives a clear message", "[import][onnx]")
{
    QTemporaryDir tmp;
    const std::string good = fileBytes(testpaths::fixtures() + "/resnet18.onnx");
    REQUIRE(good.size() > 1000);

    CHECK_THROWS_AS(Model::load(writeBytes(tmp, "empty.onnx", "")), ModelLoadError);
    CHECK(messageOf<ModelLoadError>([&] { Model::load(writeBytes(tmp, "text.onnx", "hello, this is text\n")); })
              .find("not a readable ONNX model") != std::string::npos);
    for (double fraction : {0.1, 0.5, 0.9, 0.999}) {
        const std::string cut = good.substr(0, static_cast<size_t>(good.size() * fraction));
        INFO("truncated at " << fraction);
        CHECK_THROWS_AS(Model::load(writeBytes(tmp, "cut.onnx", cut)), Error);
    }
    // Every single-byte change in the header region either loads or is refused with an Error, never a crash.
    for (size_t pos = 0; pos < 200; pos += 7) {
        std::string bad = good;
        bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
        try {
            Model::load(writeBytes(tmp, "flip.onnx", bad));
        } catch (const Error &) {
        }
    }

    onnx::ModelProto proto = OnnxFile::parse(good.data(), good.size(), "resnet18.onnx");
    proto.mutable_opset_import(0)->set_version(19);
    std::string bytes;
    proto.SerializeToString(&bytes);
    CHECK(messageOf<UnsupportedModelError>([&] { Model::load(writeBytes(tmp, "opset19.onnx", bytes)); })
              .find("opset 19") != std::string::npos);

    // Unsupported operators: one message naming each type and a node.
    proto = OnnxFile::parse(good.data(), good.size(), "resnet18.onnx");
    proto.mutable_graph()->mutable_node(20)->set_op_type("FancyOp");
    proto.mutable_graph()->mutable_node(21)->set_op_type("OtherOp");
    proto.SerializeToString(&bytes);
    const std::string message =
        messageOf<UnsupportedModelError>([&] { Model::load(writeBytes(tmp, "ops.onnx", bytes)); });
    CHECK(message.find("FancyOp (e.g. node '" + proto.graph().node(20).name() + "')") != std::string::npos);
    CHECK(message.find("OtherOp") != std::string::npos);

    // Weights as external data: read from beside the file; a missing file is named.
    proto = OnnxFile::parse(good.data(), good.size(), "resnet18.onnx");
    auto *fc = proto.mutable_graph()->mutable_initializer(0);
    const std::string raw = fc->raw_data();
    REQUIRE(!raw.empty());
    fc->clear_raw_data();
    fc->set_data_location(onnx::TensorProto::EXTERNAL);
    auto *loc = fc->add_external_data();
    loc->set_key("location");
    loc->set_value("weights.bin");
    proto.SerializeToString(&bytes);
    const std::string external = writeBytes(tmp, "external.onnx", bytes);
    CHECK(messageOf<ModelLoadError>([&] { Model::load(external); }).find("weights.bin") != std::string::npos);
    writeBytes(tmp, "weights.bin", raw);
    auto model = Model::load(external);
    torch::Tensor x = torch::randn({2, 3, 64, 64});
    auto reference = Model::load(testpaths::fixtures() + "/resnet18.onnx");
    CHECK(torch::allclose(model->forward(x), reference->forward(x)));
    writeBytes(tmp, "weights.bin", raw.substr(0, raw.size() / 2));
    CHECK(messageOf<ModelLoadError>([&] { Model::load(external); }).find("bytes") != std::string::npos);
}

TEST_CASE("ONNX imports give the TorchScript route's reconstructions, saliency and Grad-CAM", "[import][onnx][explain]")
{
    hookref::OneThread oneThread;
    // With batch norm kept as its own nodes (<arch>.bn.onnx) the import computes what the TorchScript model computes,
    // and every reconstruction equals it. With batch norm folded into the convolutions (the exporter's default) the
    // weights round differently: where a ReLU gate or a max-pool choice sits on a near tie a few pixels' paths flip;
    // everything else is equal.
    bool exact = true;
    auto similar = [&exact](const torch::Tensor &a, const torch::Tensor &b) {
        REQUIRE(a.sizes() == b.sizes());
        const double scale = b.abs().max().item<double>();
        CHECK(scale > 0);
        if (exact) {
            CHECK((a - b).abs().max().item<double>() <= 1e-5 * scale);
            return;
        }
        CHECK(((a - b).abs() <= 1e-4 * scale).to(torch::kDouble).mean().item<double>() >= 0.97);
        CHECK(((a - b).norm() / b.norm()).item<double>() <= 0.1);
    };
    for (const auto &[arch, layerName, variant] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"resnet18", "layer2.0.relu#2", ".bn"}, {"mobilenet_v3_small", "features.4", ".bn"},
             {"densenet", "features.denseblock2", ".bn"}, {"resnet18", "layer2.0.relu#2", ""},
             {"mobilenet_v3_small", "features.4", ""}, {"densenet", "features.denseblock2", ""}}) {
        INFO(arch << variant << ".onnx " << layerName);
        exact = variant == ".bn";
        auto onnx = Model::load(testpaths::fixtures() + "/" + arch + variant + ".onnx");
        auto ts = Model::load(testpaths::fixtures() + "/" + arch + ".scripted.pt");
        const torch::Tensor input = NpyFile::read(testpaths::fixtures() + "/" + arch + "/input.npy");
        Reconstructor a(onnx), b(ts);
        for (BackpropRule rule : {BackpropRule::Gradient, BackpropRule::Deconvnet, BackpropRule::Guided}) {
            INFO(backpropRuleName(rule));
            auto ra = a.units(input, onnx->layer(layerName).index, {{3, -1, -1}, {5, -1, -1}}, rule);
            auto rb = b.units(input, ts->layer(layerName).index, {{3, -1, -1}, {5, -1, -1}}, rule);
            for (size_t i = 0; i < ra.size(); ++i) {
                CHECK(ra[i].y == rb[i].y);
                CHECK(ra[i].x == rb[i].x);
                CHECK(std::abs(ra[i].value - rb[i].value) <= 1e-4 * std::max(1.0f, std::abs(rb[i].value)));
                similar(ra[i].map, rb[i].map);
            }
            similar(a.classSaliency(input, {1, 2}, rule), b.classSaliency(input, {1, 2}, rule));
        }
        // Grad-CAM at the TorchScript route's default layer. (The ONNX import may list one more: a functional ReLU
        // the exporter wrote as a node, such as DenseNet's final F.relu, is a layer there.)
        const std::string camLayer = ts->layers()[static_cast<size_t>(b.defaultCamLayer())].path;
        const auto camA = a.gradCam(input, {1, 2}, onnx->layer(camLayer).index);
        const auto camB = b.gradCam(input, {1, 2}, ts->layer(camLayer).index);
        similar(camA.upsampled, camB.upsampled);
    }
}

TEST_CASE("ONNX graphs without scope names (other exporters) get one layer per layer node, named after it", "[import][onnx]")
{
    // tf2onnx and others name nodes "model/conv2d/Conv2D" or not at all: no PyTorch scopes to fold.
    QTemporaryDir tmp;
    const std::string good = fileBytes(testpaths::fixtures() + "/resnet18.onnx");
    onnx::ModelProto proto = OnnxFile::parse(good.data(), good.size(), "resnet18.onnx");
    int convs = 0;
    for (int i = 0; i < proto.graph().node_size(); ++i) {
        auto *n = proto.mutable_graph()->mutable_node(i);
        convs += n->op_type() == "Conv";
        n->set_name(i % 3 == 0 ? std::string() : "model/block_" + std::to_string(i) + "/" + n->op_type());
    }
    std::string bytes;
    proto.SerializeToString(&bytes);
    auto model = Model::load(writeBytes(tmp, "flat.onnx", bytes));
    auto reference = Model::load(testpaths::fixtures() + "/resnet18.onnx");
    int convLayers = 0;
    std::set<std::string> names;
    for (const auto &l : model->layers()) {
        convLayers += l.kind == LayerKind::Conv;
        CHECK(l.depth == 0);
        names.insert(l.path);
    }
    CHECK(convLayers == convs);
    CHECK(names.size() == model->layers().size()); // unique names
    CHECK(names.count("model_block_4_Conv") + names.count("Conv_3") + names.count("Conv_4") >= 1);
    torch::Tensor x = torch::randn({2, 3, 64, 64});
    CHECK(torch::allclose(model->forward(x), reference->forward(x), 1e-5, 1e-5));
}

TEST_CASE("ONNX graphs that take channels-last images (tf2onnx) are fed channels-first", "[import][onnx]")
{
    // tf2onnx writes a Keras model's image input as N×H×W×C followed by Transpose(perm 0,3,1,2). Make such a file from
    // the ResNet-18 export: a new channels-last input in front of the original one.
    QTemporaryDir tmp;
    const std::string good = fileBytes(testpaths::fixtures() + "/resnet18.onnx");
    auto channelsLast = [&](const std::string &firstOp) {
        onnx::ModelProto proto = OnnxFile::parse(good.data(), good.size(), "resnet18.onnx");
        auto *graph = proto.mutable_graph();
        auto *input = graph->mutable_input(0);
        REQUIRE(input->name() == "input");
        input->set_name("input_1:0");
        auto *dims = input->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
        const auto c = dims->Get(1);
        *dims->Mutable(1) = dims->Get(2);
        *dims->Mutable(2) = dims->Get(3);
        *dims->Mutable(3) = c;
        std::vector<onnx::NodeProto> nodes(graph->node().begin(), graph->node().end());
        onnx::NodeProto front;
        std::string from = "input_1:0";
        if (firstOp == "Mul") { // a rescaling before the transpose: not the plain tf2onnx form
            onnx::NodeProto scale;
            scale.set_op_type("Constant");
            scale.add_output("scale");
            auto *v = scale.add_attribute();
            v->set_name("value_float");
            v->set_type(onnx::AttributeProto::FLOAT);
            v->set_f(1.0f);
            onnx::NodeProto mul;
            mul.set_op_type("Mul");
            mul.set_name("model/rescaling/mul");
            mul.add_input(from);
            mul.add_input("scale");
            mul.add_output("scaled");
            from = "scaled";
            nodes.insert(nodes.begin(), {scale, mul});
        }
        front.set_op_type("Transpose");
        front.set_name("model/conv1/Conv2D__6");
        front.add_input(from);
        front.add_output("input");
        auto *perm = front.add_attribute();
        perm->set_name("perm");
        perm->set_type(onnx::AttributeProto::INTS);
        for (int p : {0, 3, 1, 2})
            perm->add_ints(p);
        nodes.insert(nodes.begin() + (firstOp == "Mul" ? 2 : 0), front);
        graph->clear_node();
        for (auto &n : nodes)
            *graph->add_node() = n;
        std::string bytes;
        proto.SerializeToString(&bytes);
        return writeBytes(tmp, "nhwc_" + firstOp + ".onnx", bytes);
    };
    auto model = Model::load(channelsLast("Transpose"));
    auto reference = Model::load(testpaths::fixtures() + "/resnet18.onnx");
    CHECK(model->input().channels == 3);
    CHECK(model->input().height == reference->input().height);
    CHECK(model->input().width == reference->input().width);
    CHECK(model->formatDetails().at("input layout").find("channels-last") != std::string::npos);
    CHECK(model->layers().size() == reference->layers().size()); // the transpose became an inline Identity
    torch::Tensor x = torch::randn({2, 3, model->input().height, model->input().width});
    CHECK(torch::allclose(model->forward(x), reference->forward(x), 1e-5, 1e-5));
    CHECK(model->layer("conv1").field.x.size == reference->layer("conv1").field.x.size);

    // Anything else between the channels-last input and the transpose: a clear message, not a wrong channel count.
    const std::string message = messageOf<UnsupportedModelError>([&] { Model::load(channelsLast("Mul")); });
    CHECK(message.find("channels-last") != std::string::npos);
    CHECK(message.find("input_1:0") != std::string::npos);
}

namespace {

onnx::ValueInfoProto tensorInfo(const std::string &name, const std::vector<std::int64_t> &shape)
{
    onnx::ValueInfoProto v;
    v.set_name(name);
    auto *t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    auto *s = t->mutable_shape();
    for (auto d : shape)
        s->add_dim()->set_dim_value(d);
    return v;
}

/// A one-node model: `op`(x of shape `input`, W of shape `weight` as an initializer) with the given int attributes.
std::string convolutionModel(const std::string &op, const std::vector<std::int64_t> &input,
                             const std::vector<std::int64_t> &weight,
                             const std::map<std::string, std::vector<std::int64_t>> &attributes)
{
    onnx::ModelProto m;
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    auto *g = m.mutable_graph();
    g->set_name("one_convolution");
    auto *n = g->add_node();
    n->set_op_type(op);
    n->add_input("x");
    n->add_input("W");
    n->add_output("y");
    for (const auto &[name, values] : attributes) {
        auto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto v : values)
            a->add_ints(v);
    }
    *g->add_input() = tensorInfo("x", input);
    auto *w = g->add_initializer();
    w->set_name("W");
    w->set_data_type(onnx::TensorProto::FLOAT);
    std::int64_t count = 1;
    for (auto d : weight) {
        w->add_dims(d);
        count *= d;
    }
    for (std::int64_t i = 0; i < count; ++i)
        w->add_float_data(0.01f * static_cast<float>(i % 7));
    auto *y = g->add_output();
    y->set_name("y");
    y->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    std::string bytes;
    m.SerializeToString(&bytes);
    return bytes;
}

} // namespace

TEST_CASE("convolutions whose ranks disagree are refused with a message, never a crash (fuzz regression)",
          "[import][onnx][errors]")
{
    QTemporaryDir tmp;
    // The fuzzer's input: a Conv on a rank-2 input with a 4-d weight and four pads crashed libonnx's shape inference.
    QFile regression(QString::fromStdString(testpaths::source() + "/tests/fuzz/regressions/onnx_model/conv-input-rank-2"));
    REQUIRE(regression.open(QIODevice::ReadOnly));
    const QByteArray crash = regression.readAll();
    CHECK_THROWS_AS(Model::load(writeBytes(tmp, "crash.onnx", crash.toStdString())), Error);

    // Every combination of input rank, weight rank and attribute lengths either loads or is refused with an Error.
    int refused = 0, loaded = 0;
    for (const std::string op : {"Conv", "ConvTranspose"})
        for (int inputRank = 2; inputRank <= 5; ++inputRank)
            for (int weightRank = 1; weightRank <= 5; ++weightRank)
                for (int pads : {-1, 2, 4}) {
                    // Three input channels (what an image model takes); Conv weights are out × in × kernel,
                    // ConvTranspose weights in × out × kernel.
                    std::vector<std::int64_t> input{1, 3, 6, 6, 6};
                    std::vector<std::int64_t> weight = op == "Conv" ? std::vector<std::int64_t>{2, 3, 3, 3, 3}
                                                                    : std::vector<std::int64_t>{3, 2, 3, 3, 3};
                    input.resize(static_cast<size_t>(inputRank));
                    weight.resize(static_cast<size_t>(weightRank));
                    std::map<std::string, std::vector<std::int64_t>> attributes;
                    if (pads > 0)
                        attributes["pads"] = std::vector<std::int64_t>(static_cast<size_t>(pads), 1);
                    INFO(op << " input rank " << inputRank << ", weight rank " << weightRank << ", pads " << pads);
                    try {
                        Model::load(writeBytes(tmp, "conv.onnx", convolutionModel(op, input, weight, attributes)));
                        ++loaded;
                    } catch (const Error &) {
                        ++refused;
                    }
                }
    CHECK(refused > 0);
    CHECK(loaded > 0);
    // A consistent 2-d convolution on an image loads and runs.
    auto model = Model::load(writeBytes(tmp, "good.onnx", convolutionModel("Conv", {1, 3, 6, 6}, {2, 3, 3, 3},
                                                                          {{"pads", {1, 1, 1, 1}}})));
    CHECK(model->forward(torch::ones({1, 3, 6, 6})).sizes() == torch::IntArrayRef({1, 2, 6, 6}));
}
