#pragma once
// Runs the built `convscope` CLI in a child process for the integration tests (no display, private HOME).
#include "CatchTorch.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace clirunner {

struct Run {
    int code = -1;
    QByteArray out, err;
};

/// A private home: default project folders of unwritable datasets land under it, not in the user's.
inline QString testHome()
{
    static QTemporaryDir home;
    return home.path();
}

inline QProcessEnvironment cliEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("DISPLAY"); // must work without a display
    env.insert("HOME", testHome());
    env.insert("XDG_DATA_HOME", testHome() + "/.local/share");
    return env;
}

inline Run cli(const QStringList &args, int timeoutMs = 300000)
{
    QProcess p;
    p.setProcessEnvironment(cliEnvironment());
    p.start(QString::fromStdString(testpaths::cli()), args);
    REQUIRE(p.waitForFinished(timeoutMs));
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

inline QString demo() { return QString::fromStdString(testpaths::demoModel()); }
inline QString testSet() { return QString::fromStdString(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz"); }
inline QString fixture(const char *rel) { return QString::fromStdString(testpaths::fixtures() + "/" + rel); }

inline QJsonObject reference()
{
    QFile f(fixture("demo/reference.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace clirunner
