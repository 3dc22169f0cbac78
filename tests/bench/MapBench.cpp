// Dataset-map benchmark: Convscope's t-SNE and UMAP against scikit-learn's TSNE and umap-learn, side by side, on all
// 70,000 Fashion-MNIST images (raw pixels → PCA 50, and the demo model's fc2 features → PCA 50; inputs made once by
// map_reference.py so every method maps the same matrix). Settings: perplexity 30, 750 iterations; n_neighbors 15,
// min_dist 0.1.
//   Convscope: `convscope embed` as a child process; wall time from spawn to exit (start-up and loading included),
//              peak memory = the child's max RSS.
//   Baselines: map_reference.py in a child process; the fit alone is timed (after import and a JIT warm-up), peak
//              memory = that process's max RSS.
//   Quality (map_reference.py score, exact, the same code for all): leave-one-out 10-NN label accuracy in the map and
//   the share of each point's 10 nearest input-space neighbours kept among its 10 nearest in the map.
// Goals: t-SNE ≥ 6× faster than scikit-learn with accuracy within 0.005; UMAP ≥ 1.5× faster than umap-learn (seeded,
// as Convscope is) with accuracy within 0.01.
//
// Usage: MapBench [--limit N] [--no-baselines] [--datasets pixels,demo] [--million] [--work DIR]
//   --million adds a 1,000,000-point synthetic run (50-D Gaussian mixture) of each Convscope method: time and peak
//   memory (goal: within 24 GB).
#include "common/NpyFile.h"

#include <QByteArray>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <torch/torch.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace {

struct Run {
    double seconds = 0, peakMb = 0;
    bool ok = false;
    std::string output;
};

/// Runs argv as a child process, its stdout to `log`; wall time and max RSS of that child alone (wait4).
Run spawn(const std::vector<std::string> &argv, const std::string &log)
{
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = 0;
    Run run;
    if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return run;
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    run.peakMb = static_cast<double>(usage.ru_maxrss) / 1024.0;
    run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    run.output = text.str();
    return run;
}

/// The last line of `text` that parses as a JSON object.
QJsonObject lastJson(const std::string &text)
{
    QJsonObject found;
    for (const QByteArray &line : QByteArray::fromStdString(text).split('\n')) {
        const QJsonDocument doc = QJsonDocument::fromJson(line.trimmed());
        if (doc.isObject())
            found = doc.object();
    }
    return found;
}

struct Row {
    std::string dataset, method;
    Run run;
    double accuracy = -1, kept = -1;
    std::string coords;
};

std::string python()
{
    return "/usr/bin/python3";
}

std::string script()
{
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/bench/map_reference.py";
}

} // namespace

int main(int argc, char **argv)
{
    int limit = 0;
    bool baselines = true, million = false;
    QStringList datasets = {"pixels", "demo"};
    std::string work = QDir::tempPath().toStdString() + "/convscope-mapbench";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--limit" && i + 1 < argc)
            limit = std::atoi(argv[++i]);
        else if (a == "--no-baselines")
            baselines = false;
        else if (a == "--million")
            million = true;
        else if (a == "--datasets" && i + 1 < argc)
            datasets = QString(argv[++i]).split(',');
        else if (a == "--work" && i + 1 < argc)
            work = argv[++i];
        else {
            std::fprintf(stderr, "usage: MapBench [--limit N] [--no-baselines] [--datasets pixels,demo] [--million] "
                                 "[--work DIR]\n");
            return 2;
        }
    }
    work += limit > 0 ? "/n" + std::to_string(limit) : "/all";
    QDir().mkpath(QString::fromStdString(work));
    if (!QFile::exists(QString::fromStdString(work + "/labels.npy"))) {
        std::printf("preparing inputs in %s …\n", work.c_str());
        std::fflush(stdout);
        std::vector<std::string> prep = {python(), script(), "prepare", work,
                                         std::string(CONVSCOPE_SOURCE_DIR) + "/resources/demo"};
        if (limit > 0)
            prep.push_back(std::to_string(limit));
        if (!spawn(prep, work + "/prepare.log").ok) {
            std::fprintf(stderr, "map_reference.py prepare failed (see %s/prepare.log)\n", work.c_str());
            return 1;
        }
    }
    const std::string cli = CONVSCOPE_CLI;
    std::vector<Row> rows;
    for (const QString &dq : datasets) {
        const std::string dataset = dq.toStdString(), input = work + "/" + dataset + ".npy";
        auto add = [&](const std::string &method, const std::vector<std::string> &argv, bool ours) {
            Row row;
            row.dataset = dataset;
            row.method = method;
            row.coords = work + "/" + dataset + "_" + method + ".npy";
            std::vector<std::string> full = argv;
            full.push_back(row.coords);
            std::printf("  %s: %s …\n", dataset.c_str(), method.c_str());
            std::fflush(stdout);
            row.run = spawn(full, work + "/" + dataset + "_" + method + ".log");
            if (!ours && row.run.ok) { // the baseline's own fit time and its process's peak
                const QJsonObject j = lastJson(row.run.output);
                row.run.seconds = j["seconds"].toDouble();
                row.run.peakMb = j["peak_mb"].toDouble();
            }
            rows.push_back(row);
        };
        add("convscope-tsne", {cli, "embed", input, "--method", "tsne", "-o"}, true);
        if (baselines)
            add("sklearn-tsne", {python(), script(), "run", "sklearn-tsne", input}, false);
        add("convscope-umap", {cli, "embed", input, "--method", "umap", "-o"}, true);
        if (baselines) {
            add("umap-learn", {python(), script(), "run", "umap-learn", input}, false);
            add("umap-learn-parallel", {python(), script(), "run", "umap-learn-parallel", input}, false);
        }
        std::vector<std::string> score = {python(), script(), "score", work + "/labels.npy", input};
        for (const Row &r : rows)
            if (r.dataset == dataset && r.run.ok)
                score.push_back(r.coords);
        const Run scored = spawn(score, work + "/" + dataset + "_score.log");
        for (const QByteArray &line : QByteArray::fromStdString(scored.output).split('\n')) {
            const QJsonObject j = QJsonDocument::fromJson(line).object();
            for (Row &r : rows)
                if (r.coords == j["map"].toString().toStdString()) {
                    r.accuracy = j["accuracy"].toDouble();
                    r.kept = j["knn_preservation"].toDouble();
                }
        }
    }

    std::printf("\nFashion-MNIST map benchmark (%s images; %u cores, open to every method; seeded umap-learn uses one by its own design)\n",
                limit > 0 ? std::to_string(limit).c_str() : "70,000", std::thread::hardware_concurrency());
    std::printf("%-8s %-20s %10s %10s %10s %10s\n", "input", "method", "wall s", "peak MB", "10-NN acc", "kNN kept");
    for (const Row &r : rows) {
        if (!r.run.ok) {
            std::printf("%-8s %-20s  FAILED (see %s)\n", r.dataset.c_str(), r.method.c_str(),
                        (work + "/" + r.dataset + "_" + r.method + ".log").c_str());
            continue;
        }
        std::printf("%-8s %-20s %10.1f %10.0f %10.4f %10.4f\n", r.dataset.c_str(), r.method.c_str(), r.run.seconds,
                    r.run.peakMb, r.accuracy, r.kept);
    }
    auto find = [&](const std::string &dataset, const std::string &method) -> const Row * {
        for (const Row &r : rows)
            if (r.dataset == dataset && r.method == method && r.run.ok)
                return &r;
        return nullptr;
    };
    bool allMet = true;
    if (baselines) {
        std::printf("\n%-8s %-34s %10s %12s %s\n", "input", "comparison", "speed-up", "acc. diff", "goal");
        for (const QString &dq : datasets) {
            const std::string d = dq.toStdString();
            struct Goal {
                const char *ours, *theirs;
                double speed, accuracy;
            };
            for (const Goal g : {Goal{"convscope-tsne", "sklearn-tsne", 6.0, 0.005},
                                 Goal{"convscope-umap", "umap-learn", 1.5, 0.01},
                                 Goal{"convscope-umap", "umap-learn-parallel", 0.0, 0.01}}) {
                const Row *a = find(d, g.ours), *b = find(d, g.theirs);
                if (!a || !b)
                    continue;
                const double speed = b->run.seconds / a->run.seconds, diff = a->accuracy - b->accuracy;
                const bool met = speed >= g.speed && diff >= -g.accuracy;
                if (g.speed > 0)
                    allMet = allMet && met;
                std::printf("%-8s %-34s %9.2fx %+12.4f %s\n", d.c_str(), (std::string(g.ours) + " vs " + g.theirs).c_str(),
                            speed, diff,
                            g.speed > 0 ? (met ? "met" : "NOT met")
                                        : "(for reference: unseeded, parallel)");
            }
        }
    }

    if (million) {
        std::printf("\n1,000,000-point synthetic run (50-D mixture of 100 Gaussians)\n");
        const std::string big = work + "/million.npy";
        if (!QFile::exists(QString::fromStdString(big))) {
            auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
            const torch::Tensor centres = 6 * torch::randn({100, 50}, gen);
            const torch::Tensor which = torch::randint(100, {1000000}, gen);
            convscope::NpyFile::write(big, centres.index_select(0, which) + torch::randn({1000000, 50}, gen));
        }
        for (const char *method : {"tsne", "umap"}) {
            const Run run = spawn({cli, "embed", big, "--method", method, "-o", work + "/million_" + method + ".npy"},
                                  work + "/million_" + method + ".log");
            std::printf("%-8s %-20s %10.1f %10.0f  %s\n", "1M", method, run.seconds, run.peakMb,
                        run.ok ? (run.peakMb < 24 * 1024 ? "within 24 GB" : "OVER 24 GB") : "FAILED");
            allMet = allMet && run.ok && run.peakMb < 24 * 1024;
        }
    }
    std::printf("\n%s\n", allMet ? "all goals met" : "some goals not met");
    return 0;
}
