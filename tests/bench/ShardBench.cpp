// Scale-out: what splitting a scan costs and gains on one machine, and what merging costs.
//   throughput  the same scan as 1 process × N threads and as N MPI ranks × 1 thread (mpirun --oversubscribe),
//               images/s of each and their ratio (ranks / threads), for the demo CNN on Fashion-MNIST and
//               ResNet-50 on 224×224 photos; passes alternate, median reported
//   merge       `convscope merge` time and peak memory for the demo scan (default layers, 2 shards) and for a
//               synthetic 1,000-channel × 50-layer scan in 2 and 8 shards (tests/bench/shard_inputs.py)
// Every run is a child process of the built CLI (MPI and thread counts are per process).
// Usage: ShardBench [--only throughput,merge] [--passes P] [--ranks N] [--images N]
#include "BenchTimer.h"

#include <QDir>
#include <QFileInfo>
#include <QString>
#include <QTemporaryDir>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <vector>

extern char **environ;

namespace {

struct ChildRun {
    int code = -1;
    double seconds = 0;
    long peakKiB = 0;
};

/// Runs argv (stdout and stderr to /dev/null) with extra environment; wall time and the child's peak RSS.
ChildRun runChild(const std::vector<std::string> &argv, const std::vector<std::string> &env = {})
{
    std::vector<std::string> envStrings;
    for (char **e = environ; *e; ++e)
        envStrings.emplace_back(*e);
    for (const auto &e : env)
        envStrings.push_back(e);
    std::vector<char *> args, envs;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    for (auto &e : envStrings)
        envs.push_back(e.data());
    envs.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    ChildRun out;
    pid_t pid = 0;
    const auto start = std::chrono::steady_clock::now();
    if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envs.data()) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return out;
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out.peakKiB = usage.ru_maxrss;
    posix_spawn_file_actions_destroy(&actions);
    return out;
}

const std::vector<std::string> kMpiEnv = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};

bool fail(const char *what, const ChildRun &r)
{
    if (r.code == 0)
        return false;
    std::printf("  %s failed (exit %d)\n", what, r.code);
    return true;
}

void throughput(const std::string &name, const std::string &model, const std::string &dataset, long images,
                int ranks, int passes)
{
    const std::string cli = CONVSCOPE_CLI;
    std::vector<double> threads, mpi;
    for (int pass = 0; pass < passes; ++pass) {
        QTemporaryDir dir;
        const std::string a = dir.filePath("a").toStdString(), b = dir.filePath("b").toStdString();
        const std::vector<std::string> scan = {"scan", model, dataset, "--limit", std::to_string(images), "--quiet"};
        auto one = scan;
        one.insert(one.begin(), cli);
        one.insert(one.end(), {"--project", a});
        const ChildRun r1 = runChild(one, {"CONVSCOPE_THREADS=" + std::to_string(ranks)});
        std::vector<std::string> many = {"mpirun", "-n", std::to_string(ranks), "--oversubscribe", cli};
        many.insert(many.end(), scan.begin(), scan.end());
        many.insert(many.end(), {"--project", b, "--mpi"});
        const ChildRun r2 = runChild(many, kMpiEnv);
        if (fail("1 process", r1) || fail("mpirun", r2))
            return;
        threads.push_back(r1.seconds);
        mpi.push_back(r2.seconds);
    }
    const double t1 = bench::median(threads), t2 = bench::median(mpi);
    std::printf("  %-28s %6ld images  1 process × %d threads %8.1f images/s   %d ranks × 1 thread %8.1f images/s"
                "   ratio %.2f\n",
                name.c_str(), images, ranks, images / t1, ranks, images / t2, t1 / t2);
}

void mergeCost(const std::string &name, const std::string &model, const std::string &dataset, long images,
               int shards, const std::vector<std::string> &extra)
{
    const std::string cli = CONVSCOPE_CLI;
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    double scanSeconds = 0;
    for (int i = 0; i < shards; ++i) {
        std::vector<std::string> scan = {cli, "scan", model, dataset, "--limit", std::to_string(images), "--quiet",
                                         "--project", project, "--shard",
                                         std::to_string(i) + "/" + std::to_string(shards)};
        scan.insert(scan.end(), extra.begin(), extra.end());
        const ChildRun r = runChild(scan);
        if (fail("shard scan", r))
            return;
        scanSeconds += r.seconds;
    }
    const ChildRun merge = runChild({cli, "merge", project, "--project", dir.filePath("out").toStdString(), "--quiet"});
    if (fail("merge", merge))
        return;
    std::printf("  %-34s %d shards of %6ld images: merge %6.2f s, peak %6.0f MiB   (the shards' scans: %.1f s)\n",
                name.c_str(), shards, images, merge.seconds, merge.peakKiB / 1024.0, scanSeconds);
}

} // namespace

int main(int argc, char **argv)
{
    std::string only = "throughput,merge";
    int passes = 3, ranks = 2;
    long images = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!std::strcmp(argv[i], "--passes"))
            passes = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--ranks"))
            ranks = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--images"))
            images = std::atol(argv[i + 1]);
    }
    const std::string inputs = std::string(CONVSCOPE_BINARY_DIR) + "/bench-inputs";
    const std::string fashion = "/usr/share/datasets/fashion-mnist";
    const std::string demo = std::string(CONVSCOPE_SOURCE_DIR) + "/resources/demo/fashion_cnn.pt";
    if (system(("/usr/bin/python3 " CONVSCOPE_SOURCE_DIR "/tests/bench/scan_inputs.py " + inputs + " resnet50 && " +
                "/usr/bin/python3 " CONVSCOPE_SOURCE_DIR "/tests/bench/shard_inputs.py " + inputs)
                   .c_str()) != 0) {
        std::printf("cannot make the benchmark inputs\n");
        return 1;
    }
    if (only.find("throughput") != std::string::npos) {
        std::printf("throughput: the same scan as one process and as MPI ranks on this machine\n");
        throughput("demo CNN, Fashion-MNIST", demo, fashion, images, ranks, passes);
        throughput("ResNet-50, 384×256 photos", inputs + "/models/resnet50.pt", inputs + "/small", 160, ranks, passes);
    }
    if (only.find("merge") != std::string::npos) {
        std::printf("merge: convscope merge of finished shards\n");
        mergeCost("demo CNN, default layers", demo, fashion, 70000, 2, {});
        for (int shards : {2, 8})
            mergeCost("1,000 channels × 50 layers, k 9", inputs + "/models/wide50.pt", fashion, 8000, shards, {});
    }
    return 0;
}
