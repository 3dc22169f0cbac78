#include "search/HeadTrainer.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "common/Progress.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace convscope {

HeadTrainer::HeadTrainer(torch::Tensor features, std::vector<std::int64_t> labels, ProjectionHead head,
                         Options options)
    : labels_(torch::tensor(labels, torch::kInt64)), head_(std::move(head)), options_(options),
      loss_(options.loss)
{
    features = features.to(torch::kFloat32).contiguous();
    if (features.dim() != 2 || features.size(0) != static_cast<std::int64_t>(labels.size()))
        throw UsageError("one label per feature row expected");
    if (features.isnan().any().item<bool>())
        throw DataError("the training features contain NaN (skipped images must be left out)");
    describe_ = [features](const torch::Tensor &rows) { return features.index_select(0, rows); };
    setUp();
}

HeadTrainer::HeadTrainer(Describe describe, std::vector<std::int64_t> labels, ProjectionHead head,
                         std::vector<torch::Tensor> extra, Options options)
    : describe_(std::move(describe)), labels_(torch::tensor(labels, torch::kInt64)), head_(std::move(head)),
      extra_(std::move(extra)), options_(options), loss_(options.loss)
{
    setUp();
}

void HeadTrainer::setUp()
{
    std::map<std::int64_t, std::int64_t> perClass;
    const std::int64_t *l = labels_.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < labels_.size(0); ++i)
        ++perClass[l[i]];
    if (perClass.size() < 2)
        throw DataError("training needs images of at least 2 classes (found " + std::to_string(perClass.size()) +
                        ")");
    if (std::none_of(perClass.begin(), perClass.end(), [](const auto &c) { return c.second >= 2; }))
        throw DataError("training needs a class with at least 2 images (every class has one)");
    options_.perClass = std::max(2, options_.perClass);
    options_.batch = std::max(options_.perClass * 2, options_.batch);
    for (const auto &p : head_.parameters()) {
        moment1_.push_back(torch::zeros_like(p.detach()));
        moment2_.push_back(torch::zeros_like(p.detach()));
    }
    for (const auto &p : extra_) {
        moment1_.push_back(torch::zeros_like(p.detach()));
        moment2_.push_back(torch::zeros_like(p.detach()));
    }
}

std::vector<std::vector<std::int64_t>> HeadTrainer::batches(int epoch) const
{
    std::mt19937_64 rng(options_.seed * 1000003u + static_cast<std::uint64_t>(epoch));
    std::map<std::int64_t, std::vector<std::int64_t>> byClass;
    const std::int64_t *l = labels_.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < labels_.size(0); ++i)
        byClass[l[i]].push_back(i);
    std::vector<std::vector<std::int64_t>> groups;
    for (auto &c : byClass) {
        std::shuffle(c.second.begin(), c.second.end(), rng);
        for (size_t i = 0; i < c.second.size(); i += static_cast<size_t>(options_.perClass))
            groups.emplace_back(c.second.begin() + static_cast<std::ptrdiff_t>(i),
                                c.second.begin() + static_cast<std::ptrdiff_t>(
                                                       std::min(c.second.size(), i + options_.perClass)));
    }
    std::shuffle(groups.begin(), groups.end(), rng);
    std::vector<std::vector<std::int64_t>> out(1);
    for (const auto &g : groups) {
        if (static_cast<int>(out.back().size()) >= options_.batch)
            out.emplace_back();
        out.back().insert(out.back().end(), g.begin(), g.end());
    }
    return out;
}

void HeadTrainer::step(const std::vector<std::int64_t> &rows, std::mt19937_64 &rng, Epoch &sums)
{
    const torch::Tensor index = torch::tensor(rows, torch::kInt64);
    const torch::Tensor labels = labels_.index_select(0, index);
    if (labels.min().item<std::int64_t>() == labels.max().item<std::int64_t>())
        return; // a batch of one class (an epoch's last, or singletons): nothing to learn, no optimiser step
    const torch::Tensor embeddings = head_.forward(describe_(index));
    const MetricLoss::Triplets triplets = loss_.mine(embeddings, labels, rng);
    if (triplets.size() == 0)
        return;
    const torch::Tensor loss = loss_.loss(embeddings, triplets);
    auto params = head_.parameters();
    const size_t headCount = params.size();
    params.insert(params.end(), extra_.begin(), extra_.end());
    const auto grads = torch::autograd::grad({loss}, params, {}, false, false, true);
    ++steps_;
    constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    const double c1 = 1 - std::pow(beta1, static_cast<double>(steps_));
    const double c2 = 1 - std::pow(beta2, static_cast<double>(steps_));
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < params.size(); ++i) {
        if (!grads[i].defined())
            continue;
        moment1_[i].mul_(beta1).add_(grads[i], 1 - beta1);
        moment2_[i].mul_(beta2).addcmul_(grads[i], grads[i], 1 - beta2);
        const torch::Tensor denom = (moment2_[i] / c2).sqrt_().add_(eps);
        const double rate = i < headCount ? options_.learningRate : options_.backboneLearningRate;
        params[i].addcdiv_(moment1_[i], denom, -rate / c1);
    }
    sums.loss += loss.item<double>();
    sums.active += loss_.activeFraction(embeddings, triplets);
    ++sums.steps;
}

HeadTrainer::Epoch HeadTrainer::runEpoch(Progress *progress)
{
    if (done())
        throw UsageError("training has finished its " + std::to_string(options_.epochs) + " epochs");
    // Snapshot for the rollback of a cancelled epoch.
    const ProjectionHead before = head_.clone();
    std::vector<torch::Tensor> m1, m2, extraBefore;
    for (const auto &p : extra_)
        extraBefore.push_back(p.detach().clone());
    for (size_t i = 0; i < moment1_.size(); ++i) {
        m1.push_back(moment1_[i].clone());
        m2.push_back(moment2_[i].clone());
    }
    const std::int64_t stepsBefore = steps_;
    const auto list = batches(epoch_ + 1);
    std::mt19937_64 rng(options_.seed * 7919u + static_cast<std::uint64_t>(epoch_ + 1));
    Epoch sums;
    for (size_t b = 0; b < list.size(); ++b) {
        if (progress && progress->cancelled()) {
            head_ = before;
            torch::NoGradGuard noGrad;
            for (size_t i = 0; i < extra_.size(); ++i)
                extra_[i].copy_(extraBefore[i]);
            moment1_ = m1;
            moment2_ = m2;
            steps_ = stepsBefore;
            throw CancelledError();
        }
        step(list[b], rng, sums);
        if (progress)
            progress->report(static_cast<std::int64_t>(b + 1), static_cast<std::int64_t>(list.size()),
                             "training epoch " + std::to_string(epoch_ + 1));
    }
    ++epoch_;
    sums.epoch = epoch_;
    if (sums.steps > 0) {
        sums.loss /= static_cast<double>(sums.steps);
        sums.active /= static_cast<double>(sums.steps);
    }
    return sums;
}

void HeadTrainer::save(const std::string &dir) const
{
    head_.save(dir);
    for (size_t i = 0; i < moment1_.size(); ++i) {
        NpyFile::write(dir + "/trainer_m" + std::to_string(i) + ".npy", moment1_[i]);
        NpyFile::write(dir + "/trainer_v" + std::to_string(i) + ".npy", moment2_[i]);
    }
    for (size_t i = 0; i < extra_.size(); ++i)
        NpyFile::write(dir + "/trainer_network" + std::to_string(i) + ".npy", extra_[i].detach());
    NpyFile::write(dir + "/trainer_steps.npy", torch::tensor({steps_, static_cast<std::int64_t>(epoch_)}, torch::kInt64));
}

int HeadTrainer::restore(const std::string &dir)
{
    ProjectionHead h = ProjectionHead::load(dir);
    auto params = h.parameters();
    params.insert(params.end(), extra_.begin(), extra_.end());
    if (params.size() != moment1_.size() || h.inputDims() != head_.inputDims() ||
        h.outputDims() != head_.outputDims())
        throw DataError("the saved training in '" + dir + "' does not match these options (head size)");
    std::vector<torch::Tensor> m1, m2;
    for (size_t i = 0; i < params.size(); ++i) {
        m1.push_back(NpyFile::read(dir + "/trainer_m" + std::to_string(i) + ".npy").to(torch::kFloat32));
        m2.push_back(NpyFile::read(dir + "/trainer_v" + std::to_string(i) + ".npy").to(torch::kFloat32));
        if (!m1.back().sizes().equals(params[i].sizes()) || !m2.back().sizes().equals(params[i].sizes()))
            throw DataError("the saved optimiser state in '" + dir + "' does not match the head");
    }
    std::vector<torch::Tensor> network;
    for (size_t i = 0; i < extra_.size(); ++i) {
        network.push_back(
            NpyFile::read(dir + "/trainer_network" + std::to_string(i) + ".npy").to(extra_[i].scalar_type()));
        if (!network.back().sizes().equals(extra_[i].sizes()))
            throw DataError("the saved network weights in '" + dir + "' do not match the layers being fine-tuned");
    }
    head_ = std::move(h);
    {
        torch::NoGradGuard noGrad;
        for (size_t i = 0; i < extra_.size(); ++i)
            extra_[i].copy_(network[i]);
    }
    moment1_ = m1;
    moment2_ = m2;
    const torch::Tensor counts = NpyFile::read(dir + "/trainer_steps.npy").to(torch::kInt64).flatten();
    if (counts.numel() != 2 || counts[0].item<std::int64_t>() < 0 || counts[1].item<std::int64_t>() < 0)
        throw DataError("the saved training step count in '" + dir + "' is damaged");
    steps_ = counts[0].item<std::int64_t>();
    epoch_ = static_cast<int>(counts[1].item<std::int64_t>());
    return epoch_;
}

} // namespace convscope
