// Threads and waiting policy: inference time of the demo model (batch 32) and a ResNet-18 (batch 8, 128×128)
// with 1 and 2 intra-op threads, alone and next to one competing busy process, under OpenMP's ACTIVE (spinning)
// and PASSIVE (Convscope's choice) waiting and libgomp's default (spin a while, then sleep); and fully connected layers with the reference BLAS vs OpenBLAS.
// Each configuration runs in a child process, because libgomp and the BLAS are chosen when the process starts.
#include "BenchTimer.h"
#include "model/Model.h"
#include "common/RuntimePolicy.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace convscope;

namespace {

double childMeasure(const std::string &self, const std::string &what, const std::string &env)
{
    const std::string cmd = "env " + env + " CONVSCOPE_REEXECUTED=1 " + self + " --measure " + what;
    FILE *p = popen(cmd.c_str(), "r");
    double ms = -1;
    if (p) {
        if (std::fscanf(p, "%lf", &ms) != 1)
            ms = -1;
        pclose(p);
    }
    return ms;
}

pid_t startBusyProcess()
{
    pid_t pid = fork();
    if (pid == 0) {
        volatile unsigned long x = 0;
        for (;;)
            x = x + 1;
    }
    return pid;
}

int measureInChild(const std::string &what, const std::string &fixtures)
{
    const int threads = std::atoi(std::getenv("BENCH_THREADS") ? std::getenv("BENCH_THREADS") : "1");
    RuntimePolicy::applyThreads(threads);
    std::function<void()> run;
    std::shared_ptr<const Model> model;
    torch::Tensor x, wt;
    if (what == "demo") {
        model = Model::load(CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt");
        x = torch::randn({32, 1, 28, 28});
        run = [&] { model->forward(x); };
    } else if (what == "resnet18") {
        model = Model::load(fixtures + "/resnet18.traced.pt");
        x = torch::randn({8, 3, 128, 128});
        run = [&] { model->forward(x); };
    } else { // fc: AlexNet's first classifier layer, batch 32
        x = torch::randn({32, 9216});
        wt = torch::randn({4096, 9216});
        run = [&] { torch::linear(x, wt); };
    }
    for (int i = 0; i < 3; ++i)
        run();
    std::vector<double> t;
    for (int i = 0; i < 9; ++i)
        t.push_back(bench::seconds(run));
    std::printf("%.3f\n", bench::median(t) * 1e3);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    const std::string fixtures = CONVSCOPE_FIXTURE_DIR;
    if (argc > 2 && std::string(argv[1]) == "--measure") {
        RuntimePolicy::applyAllocator();
        return measureInChild(argv[2], fixtures);
    }
    const std::string self = argv[0];

    std::printf("%-9s %-8s %-7s %-12s %10s\n", "model", "policy", "threads", "competitor", "ms/batch");
    for (const std::string what : {"demo", "resnet18"}) {
        double baseline = 0;
        for (const std::string policy : {"PASSIVE", "ACTIVE", "default"})
            for (int threads : {1, 2})
                for (bool busy : {false, true}) {
                    pid_t competitor = busy ? startBusyProcess() : 0;
                    const std::string env = policy == "default" ? "-u OMP_WAIT_POLICY" // libgomp's own default
                                                                : "OMP_WAIT_POLICY=" + policy;
                    const double ms = childMeasure(self, what, env + " BENCH_THREADS=" + std::to_string(threads));
                    if (competitor) {
                        kill(competitor, SIGKILL);
                        waitpid(competitor, nullptr, 0);
                    }
                    if (baseline == 0)
                        baseline = ms;
                    std::printf("%-9s %-8s %-7d %-12s %10.2f   (%.2fx the 1-thread passive time)\n", what.c_str(),
                                policy.c_str(), threads, busy ? "1 busy proc" : "none", ms, ms / baseline);
                    std::fflush(stdout);
                }
    }
    std::printf("\nfully connected 32x9216 -> 4096, 2 threads:\n");
    const std::string ref = "/usr/lib/x86_64-linux-gnu/blas";
    const double refMs = childMeasure(self, "fc", "LD_LIBRARY_PATH=" + ref + " OMP_WAIT_POLICY=PASSIVE BENCH_THREADS=2");
    const double openMs = childMeasure(self, "fc", "OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 BENCH_THREADS=2");
    std::printf("reference BLAS %8.2f ms   system libblas.so.3 (OpenBLAS via alternatives) %8.2f ms   speed-up %.1fx\n",
                refMs, openMs, refMs / openMs);
    // OpenBLAS's threads sleep almost at once after a call (Convscope's OPENBLAS_THREAD_TIMEOUT=4) instead of
    // spinning 2^28 cycles (its default): what that costs a BLAS-bound layer, alone and next to a busy process.
    for (bool busy : {false, true}) {
        pid_t competitor = busy ? startBusyProcess() : 0;
        const double spinMs = childMeasure(self, "fc", "-u OPENBLAS_THREAD_TIMEOUT OMP_WAIT_POLICY=PASSIVE BENCH_THREADS=2");
        const double sleepMs = childMeasure(self, "fc", "OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 BENCH_THREADS=2");
        if (competitor) {
            kill(competitor, SIGKILL);
            waitpid(competitor, nullptr, 0);
        }
        std::printf("OpenBLAS threads spinning (default) %8.2f ms   sleeping at once (Convscope) %8.2f ms   %s\n",
                    spinMs, sleepMs, busy ? "next to 1 busy process" : "alone");
    }
    return 0;
}
