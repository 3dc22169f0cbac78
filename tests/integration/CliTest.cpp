// The CLI as a whole: bad input gives clear one-line errors and distinct exit codes.
#include "CatchTorch.h"

#include "common/NpyFile.h"
#include "scan/ProjectStore.h"
#include "TestPaths.h"

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include "CliRunner.h"

using namespace clirunner;

TEST_CASE("cli bad input: clear one-line errors and distinct exit codes", "[cli][errors]")
{
    auto check = [](const QStringList &args, int code, const char *needle) {
        Run r = cli(args);
        INFO(args.join(' ').toStdString() << " -> " << r.code << ": " << r.err.toStdString());
        CHECK(r.code == code);
        CHECK(r.err.contains(needle));
        CHECK(r.err.trimmed().count('\n') <= 1);
    };
    check({"info", "/nonexistent.pt"}, 3, "does not exist");
    check({"info", fixture("models/empty.pt")}, 4, "empty");
    check({"info", fixture("models/text.pt")}, 4, "not a TorchScript model");
    check({"info", fixture("models/truncated.pt")}, 4, "cannot open model");
    check({"info", fixture("models/vector.pt")}, 5, "does not take a 1×3×224×224 image");
    check({"predict", demo(), "/nonexistent.png"}, 3, "nonexistent.png");
    check({"predict", demo(), fixture("images/bad/text.jpg")}, 6, "cannot decode");
    check({"evaluate", demo(), "/nonexistent/dir"}, 3, "does not exist");
    check({"filters", demo(), "--layer", "nope", "-o", "/tmp/x.png"}, 2, "no layer 'nope'");
    check({"info"}, 2, "usage");
    check({"frobnicate"}, 2, "neither a command nor a model file");
    Run help = cli({"filters", "--help"});
    CHECK(help.code == 0);
    CHECK(help.out.contains("--mode"));
    CHECK(help.out.contains("Draws the filter weights of a conv layer")); // what the command does, not only its options
}
