#include "probe/LinearClassifier.h"

#include "common/Error.h"


#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace convscope {

struct LinearClassifier::State {
    torch::Tensor x, y;          ///< standardised training features (double), labels (long)
    torch::Tensor mean, scale;   ///< per feature, applied before the weights
    torch::Tensor w, b;          ///< d×classes, classes (double)
    torch::Tensor gw, gb;        ///< the objective's gradient at (w, b)
    double f = 0;                ///< the objective at (w, b)
    std::vector<std::pair<torch::Tensor, torch::Tensor>> memory; ///< L-BFGS pairs (step, gradient change), flat
    int classes = 0;
    int iterations = 0;
    bool converged = false;
};

LinearClassifier::LinearClassifier(Options options) : options_(options) {}
LinearClassifier::~LinearClassifier() = default;
LinearClassifier::LinearClassifier(LinearClassifier &&) noexcept = default;
LinearClassifier &LinearClassifier::operator=(LinearClassifier &&) noexcept = default;

std::string LinearClassifier::kindName(Kind kind)
{
    return kind == Kind::LogisticRegression ? "logreg" : "svm";
}

LinearClassifier::Kind LinearClassifier::parseKind(const std::string &name)
{
    if (name == "logreg" || name == "logistic")
        return Kind::LogisticRegression;
    if (name == "svm")
        return Kind::LinearSvm;
    throw UsageError("unknown classifier '" + name + "' (logreg or svm)");
}

namespace {

/// ½‖W‖² + C · Σ loss, divided by the number of samples (the same optimum, better scaled for the line search), and
/// its gradient into `gw`, `gb` when asked (computed directly: no autograd graph per evaluation).
double objectiveAndGradient(const torch::Tensor &x, const torch::Tensor &y, const torch::Tensor &w,
                            const torch::Tensor &b, LinearClassifier::Kind kind, double c, torch::Tensor *gw = nullptr,
                            torch::Tensor *gb = nullptr)
{
    const bool gradient = gw != nullptr;
    torch::NoGradGuard noGrad;
    const double n = static_cast<double>(x.size(0));
    const torch::Tensor scores = torch::addmm(b, x, w);
    torch::Tensor loss, dScores;
    if (kind == LinearClassifier::Kind::LogisticRegression) {
        const torch::Tensor logNorm = scores.logsumexp(1);
        loss = (logNorm - scores.gather(1, y.unsqueeze(1)).squeeze(1)).sum();
        if (gradient)
            dScores = (scores - logNorm.unsqueeze(1)).exp_().scatter_add_(
                1, y.unsqueeze(1), torch::full({x.size(0), 1}, -1.0, scores.options()));
    } else {
        // One-vs-rest: every class's column is its own binary problem with targets +1 (the class) and −1 (the rest).
        const torch::Tensor targets = torch::full_like(scores, -1.0).scatter_(1, y.unsqueeze(1), 1.0);
        const torch::Tensor slack = (1.0 - targets * scores).clamp_min_(0.0);
        loss = slack.square().sum();
        if (gradient)
            dScores = -2.0 * targets * slack;
    }
    if (gradient) {
        *gw = torch::addmm(w, x.t(), dScores, /*beta=*/1.0, /*alpha=*/c).div_(n);
        *gb = dScores.sum(0).mul_(c / n);
    }
    return ((0.5 * w.square().sum() + c * loss) / n).item<double>();
}

} // namespace

void LinearClassifier::init(const torch::Tensor &x, const torch::Tensor &y, int classes)
{
    if (x.dim() != 2 || y.dim() != 1 || x.size(0) != y.size(0))
        throw DataError("a linear probe needs N×d features and N labels (got " + std::to_string(x.dim()) +
                        "-D features for " + std::to_string(y.numel()) + " labels)");
    if (x.size(0) < 2 || x.size(1) < 1)
        throw DataError("a linear probe needs at least 2 training images with features");
    torch::Tensor xd = x.to(torch::kDouble).contiguous();
    if (!torch::isfinite(xd).all().item<bool>())
        throw DataError("the features hold NaN or infinite values");
    const torch::Tensor labels = y.to(torch::kLong);
    if (labels.min().item<std::int64_t>() < 0)
        throw DataError("a linear probe needs labelled images (a label is negative)");
    const int present = static_cast<int>(std::get<0>(torch::_unique(labels)).numel());
    const int k = std::max(classes, static_cast<int>(labels.max().item<std::int64_t>()) + 1);
    if (present < 2)
        throw DataError("a linear probe needs images of at least 2 classes in its training split");
    auto s = std::make_unique<State>();
    s->classes = k;
    if (options_.standardise) {
        s->mean = xd.mean(0);
        s->scale = xd.std(0, /*unbiased=*/false);
        s->scale = torch::where(s->scale > 1e-12 * s->scale.max().clamp_min(1e-300), s->scale, torch::ones_like(s->scale));
    } else {
        s->mean = torch::zeros({xd.size(1)}, torch::kDouble);
        s->scale = torch::ones({xd.size(1)}, torch::kDouble);
    }
    s->x = (xd - s->mean) / s->scale;
    s->y = labels;
    s->w = torch::zeros({xd.size(1), k}, torch::kDouble);
    s->b = torch::zeros({k}, torch::kDouble);
    s->f = objectiveAndGradient(s->x, s->y, s->w, s->b, options_.kind, options_.c, &s->gw, &s->gb);
    state_ = std::move(s);
}

bool LinearClassifier::run(int iterations)
{
    if (!state_)
        throw UsageError("LinearClassifier::run before init");
    State &s = *state_;
    // Stopping as scipy's L-BFGS-B does for scikit-learn, on scikit-learn's scale of the objective
    // (Σ loss + ½‖W‖²/C, which is ours × n / C): the largest gradient entry below gradientTolerance, or a relative
    // decrease of the objective below relativeTolerance.
    const double toSklearn = static_cast<double>(s.x.size(0)) / options_.c;
    const auto d = s.w.size(0), k = s.w.size(1);
    auto flat = [](const torch::Tensor &w, const torch::Tensor &b) { return torch::cat({w.reshape(-1), b}); };
    auto gradMax = [&] { return std::max(s.gw.abs().max().item<double>(), s.gb.abs().max().item<double>()); };
    if (s.iterations == 0 && gradMax() * toSklearn <= options_.gradientTolerance)
        s.converged = true;
    for (int i = 0; i < iterations && !s.converged && s.iterations < options_.maxIterations; ++i) {
        // Direction: the two-loop recursion over the remembered pairs (the newest last).
        const torch::Tensor g = flat(s.gw, s.gb);
        torch::Tensor q = g.clone();
        std::vector<double> alpha(s.memory.size());
        for (size_t m = s.memory.size(); m-- > 0;) {
            const auto &[sv, yv] = s.memory[m];
            alpha[m] = sv.dot(q).item<double>() / yv.dot(sv).item<double>();
            q.add_(yv, -alpha[m]);
        }
        double step = 1.0;
        if (!s.memory.empty()) {
            const auto &[sv, yv] = s.memory.back();
            q.mul_(sv.dot(yv).item<double>() / yv.dot(yv).item<double>());
        } else {
            step = std::min(1.0, 1.0 / g.abs().sum().item<double>()); // first step: a small one along −g
        }
        for (size_t m = 0; m < s.memory.size(); ++m) {
            const auto &[sv, yv] = s.memory[m];
            const double beta = yv.dot(q).item<double>() / yv.dot(sv).item<double>();
            q.add_(sv, alpha[m] - beta);
        }
        torch::Tensor direction = q.neg_();
        double slope = g.dot(direction).item<double>();
        if (!(slope < 0)) { // not a descent direction (rounding): start again from steepest descent
            s.memory.clear();
            direction = -g;
            slope = g.dot(direction).item<double>();
            step = std::min(1.0, 1.0 / g.abs().sum().item<double>());
        }
        // Backtracking line search with the Armijo condition (the objective is convex and smooth).
        torch::Tensor w, b, gw, gb;
        double f = 0;
        bool accepted = false;
        for (int tries = 0; tries < 40; ++tries) {
            const torch::Tensor moved = direction * step;
            w = s.w + moved.slice(0, 0, d * k).view({d, k});
            b = s.b + moved.slice(0, d * k);
            f = objectiveAndGradient(s.x, s.y, w, b, options_.kind, options_.c, &gw, &gb);
            if (std::isfinite(f) && f <= s.f + 1e-4 * step * slope) {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        ++s.iterations;
        if (!accepted) { // no decrease along the direction: at the optimum to the precision of doubles
            s.converged = true;
            break;
        }
        const torch::Tensor sv = direction * step, yv = flat(gw, gb) - g;
        if (sv.dot(yv).item<double>() > 1e-12 * yv.dot(yv).item<double>()) {
            s.memory.emplace_back(sv, yv);
            if (s.memory.size() > 10)
                s.memory.erase(s.memory.begin());
        }
        const double before = s.f;
        s.w = w;
        s.b = b;
        s.gw = gw;
        s.gb = gb;
        s.f = f;
        s.converged = gradMax() * toSklearn <= options_.gradientTolerance ||
                      (before - f) * toSklearn <=
                          options_.relativeTolerance * std::max({std::abs(before) * toSklearn, std::abs(f) * toSklearn, 1.0});
    }
    return s.converged || s.iterations >= options_.maxIterations;
}

void LinearClassifier::fit(const torch::Tensor &x, const torch::Tensor &y, int classes)
{
    init(x, y, classes);
    while (!run(50)) {
    }
}

torch::Tensor LinearClassifier::decision(const torch::Tensor &x) const
{
    if (!state_)
        throw UsageError("LinearClassifier used before training");
    const State &s = *state_;
    if (x.dim() != 2 || x.size(1) != s.w.size(0))
        throw DataError("features of " + std::to_string(x.dim() == 2 ? x.size(1) : 0) + " dimensions for a probe "
                        "trained on " + std::to_string(s.w.size(0)));
    return torch::addmm(s.b, (x.to(torch::kDouble) - s.mean) / s.scale, s.w);
}

torch::Tensor LinearClassifier::predict(const torch::Tensor &x) const
{
    return decision(x).argmax(1);
}

double LinearClassifier::accuracy(const torch::Tensor &x, const torch::Tensor &y) const
{
    if (y.numel() == 0)
        return 0;
    return predict(x).eq(y.to(torch::kLong)).to(torch::kDouble).mean().item<double>();
}

int LinearClassifier::iterations() const { return state_ ? state_->iterations : 0; }
bool LinearClassifier::converged() const { return state_ && state_->converged; }
int LinearClassifier::classes() const { return state_ ? state_->classes : 0; }

double LinearClassifier::objective() const
{
    if (!state_)
        return 0;
    return state_->f * static_cast<double>(state_->x.size(0));
}

} // namespace convscope
