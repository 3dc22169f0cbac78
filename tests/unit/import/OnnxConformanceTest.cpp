// ONNX's own backend node tests (Debian's libonnx-testdata: one model.onnx per case with input and expected
// output tensors): every case whose operators Convscope supports is imported and run, and its outputs compared
// with ONNX's (rtol 1e-4, atol 1e-5). Prints passed / failed / declined / unsupported per operator; a failure of a
// supported operator fails the test. "Declined" is a case the importer refuses with a clear UnsupportedModelError
// (an attribute combination PyTorch cannot express, e.g. a negative slice step); those are listed too.
#include "CatchTorch.h"

#include "common/Error.h"
#include "import/OnnxFile.h"
#include "import/OnnxImporter.h"
#include "import/OnnxOperators.h"
#include "import/OnnxTensor.h"

#include <QDir>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

using namespace convscope;

namespace {

const char *kNodeTests = "/usr/share/libonnx-testdata/data/node";

onnx::TensorProto readTensor(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    onnx::TensorProto t;
    if (!t.ParseFromIstream(&in))
        throw DataError("cannot read " + path);
    return t;
}

struct Tally {
    int passed = 0, failed = 0, declined = 0, unsupported = 0;
    std::vector<std::string> failures, declines;
};

/// Runs one case; returns "" when it passed, else why it failed. Throws UnsupportedModelError when declined.
/// The node tests pass attributes-turned-inputs (axes, pads, clip bounds, shapes) as graph inputs; a model carries
/// them as constants, and Convscope needs them fixed at load time. When the import says so, the case runs again
/// with every input after the first stored as an initializer.
std::string runCase(const std::string &dir, const onnx::ModelProto &model)
{
    const std::string data = dir + "/test_data_set_0";
    OnnxImporter::Result imported;
    try {
        imported = OnnxImporter::importModel(model, dir, {});
    } catch (const UnsupportedModelError &e) {
        if (std::string(e.what()).find("run time") == std::string::npos || model.graph().input_size() < 2)
            throw;
        onnx::ModelProto constant = model;
        for (int i = 1; i < model.graph().input_size(); ++i) {
            onnx::TensorProto t = readTensor(data + "/input_" + std::to_string(i) + ".pb");
            t.set_name(model.graph().input(i).name());
            *constant.mutable_graph()->add_initializer() = t;
        }
        imported = OnnxImporter::importModel(constant, dir, {});
    }
    std::vector<c10::IValue> inputs;
    for (size_t i = 0; i < imported.inputNames.size(); ++i)
        inputs.push_back(OnnxTensor::toTensor(readTensor(data + "/input_" + std::to_string(i) + ".pb"), data, "input"));
    c10::IValue out;
    {
        torch::NoGradGuard noGrad;
        out = imported.module.forward(inputs);
    }
    std::vector<torch::Tensor> outputs;
    if (out.isTuple())
        for (const auto &e : out.toTupleRef().elements())
            outputs.push_back(e.toTensor());
    else
        outputs.push_back(out.toTensor());
    for (size_t o = 0; o < outputs.size(); ++o) {
        const std::string file = data + "/output_" + std::to_string(o) + ".pb";
        if (!QFileInfo::exists(QString::fromStdString(file)))
            return "output " + std::to_string(o) + " has no reference";
        torch::Tensor expected = OnnxTensor::toTensor(readTensor(file), data, "output");
        torch::Tensor got = outputs[o];
        if (got.sizes() != expected.sizes())
            return "output " + std::to_string(o) + " has shape " + c10::str(got.sizes()) + ", expected " +
                   c10::str(expected.sizes());
        if (got.scalar_type() != expected.scalar_type())
            return "output " + std::to_string(o) + " is " + std::string(c10::toString(got.scalar_type())) + ", expected " +
                   c10::toString(expected.scalar_type());
        if (expected.is_floating_point()) {
            torch::Tensor e = expected.to(torch::kDouble), g = got.to(torch::kDouble);
            const bool nanMatch = torch::equal(torch::isnan(e), torch::isnan(g));
            torch::Tensor ok = (g - e).abs() <= 1e-5 + 1e-4 * e.abs();
            ok = ok | (torch::isnan(e) & torch::isnan(g)) | (torch::isinf(e) & (g == e));
            if (!nanMatch || !ok.all().item<bool>())
                return "output " + std::to_string(o) + " differs by up to " +
                       std::to_string(torch::nan_to_num(g - e).abs().max().item<double>());
        } else if (!torch::equal(got, expected)) {
            return "output " + std::to_string(o) + " differs";
        }
    }
    return {};
}

} // namespace

TEST_CASE("ONNX backend node tests pass for every supported operator", "[import][onnx][conformance]")
{
    const QDir root(kNodeTests);
    REQUIRE(root.exists()); // packaging/setup-debian.sh installs libonnx-testdata
    std::map<std::string, Tally> table;
    int cases = 0;
    for (const QString &name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        const std::string dir = root.filePath(name).toStdString();
        onnx::ModelProto model;
        try {
            model = OnnxFile::read(dir + "/model.onnx");
        } catch (const Error &) {
            continue; // opsets outside 7–17 are out of scope
        }
        std::set<std::string> ops;
        bool supported = true;
        for (const auto &n : model.graph().node()) {
            ops.insert(n.op_type());
            supported = supported && (n.domain().empty() || n.domain() == "ai.onnx") &&
                        (OnnxOperators::supports(n.op_type()) || n.op_type() == "Constant");
        }
        const std::string op = model.graph().node_size() ? model.graph().node(model.graph().node_size() - 1).op_type() : "?";
        Tally &t = table[op];
        if (!supported) {
            ++t.unsupported;
            continue;
        }
        ++cases;
        std::string failure;
        try {
            failure = runCase(dir, model);
        } catch (const UnsupportedModelError &e) {
            ++t.declined;
            t.declines.push_back(name.toStdString() + ": " + e.what());
            continue;
        } catch (const std::exception &e) {
            // The interpreter's messages end with the reason; keep the first and the last line.
            std::string what = e.what();
            while (!what.empty() && (what.back() == '\n' || what.back() == ' '))
                what.pop_back();
            const std::string first = what.substr(0, what.find('\n'));
            const std::string last = what.substr(what.rfind('\n') == std::string::npos ? 0 : what.rfind('\n') + 1);
            failure = "threw: " + first + (last != first ? " … " + last : "");
        }
        if (failure.empty()) {
            ++t.passed;
        } else {
            ++t.failed;
            t.failures.push_back(name.toStdString() + ": " + failure);
        }
    }
    Tally total;
    std::printf("%-24s %7s %7s %9s %12s\n", "operator", "passed", "failed", "declined", "unsupported");
    for (const auto &[op, t] : table) {
        if (t.passed + t.failed + t.declined == 0)
            continue;
        std::printf("%-24s %7d %7d %9d %12d\n", op.c_str(), t.passed, t.failed, t.declined, t.unsupported);
        total.passed += t.passed;
        total.failed += t.failed;
        total.declined += t.declined;
    }
    for (const auto &[op, t] : table)
        total.unsupported += t.unsupported;
    std::printf("%-24s %7d %7d %9d %12d\n", "total", total.passed, total.failed, total.declined, total.unsupported);
    for (const auto &[op, t] : table) {
        for (const auto &d : t.declines)
            std::printf("declined %s\n", d.c_str());
        for (const auto &f : t.failures)
            std::printf("FAILED %s\n", f.c_str());
    }
    std::fflush(stdout);
    CHECK(cases > 200);
    CHECK(total.passed > 200);
    CHECK(total.failed == 0);
}
