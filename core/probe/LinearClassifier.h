#pragma once
// A linear classifier trained on a layer's features — the probe behind "which layer classifies best" (DeCAF,
// Donahue et al. 2013): multinomial logistic regression or a one-vs-rest linear SVM with the squared hinge loss,
// both L2-regularised as scikit-learn states them (minimise ½‖W‖² + C · Σ loss; the bias is not penalised).
//
// Features are standardised with the training set's mean and standard deviation (constant columns stay 0), then
// the convex objective is minimised in double precision with L-BFGS (10 pairs, backtracking Armijo line search; the
// gradient is computed directly, without autograd), so the solution is the unique optimum whatever the features'
// scale — the one scikit-learn's lbfgs / liblinear solvers approach — and it stops where scikit-learn's lbfgs does.
//
// Usage: LinearClassifier c(options); c.init(x, y); while (!c.run(20)) report(c.iterations()); c.accuracy(xt, yt);
// or simply c.fit(x, y).
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace convscope {

class LinearClassifier {
public:
    enum class Kind { LogisticRegression, LinearSvm };

    struct Options {
        Kind kind = Kind::LogisticRegression;
        double c = 1.0;             ///< inverse regularisation strength, as scikit-learn's C
        int maxIterations = 1000;   ///< L-BFGS iterations in all
        /// Converged when, on scikit-learn's scale of the objective (Σ loss + ½‖W‖²/C), the largest gradient entry
        /// is below gradientTolerance (scikit-learn's `tol`) or one iteration lowers the objective by less than
        /// relativeTolerance of it (scipy's L-BFGS-B default): the solution scikit-learn's lbfgs stops at.
        double gradientTolerance = 1e-4;
        double relativeTolerance = 2.2e-9;
        bool standardise = true;    ///< centre and scale each feature on the training set
    };

    explicit LinearClassifier(Options options);
    ~LinearClassifier();
    LinearClassifier(LinearClassifier &&) noexcept;
    LinearClassifier &operator=(LinearClassifier &&) noexcept;

    /// Sets up training on `x` (N×d, any float type) with labels `y` (N, integers 0..classes−1; classes =
    /// max(y)+1 unless given). Throws DataError for fewer than 2 classes present, NaN/inf features, or sizes that
    /// do not match.
    void init(const torch::Tensor &x, const torch::Tensor &y, int classes = 0);
    /// Runs up to `iterations` more L-BFGS iterations; true when converged or out of iterations.
    bool run(int iterations);
    /// init() then run() to the end.
    void fit(const torch::Tensor &x, const torch::Tensor &y, int classes = 0);

    /// Class scores (N×classes) and predicted classes (N) for features laid out as in training.
    torch::Tensor decision(const torch::Tensor &x) const;
    torch::Tensor predict(const torch::Tensor &x) const;
    /// Fraction of `y` predicted right.
    double accuracy(const torch::Tensor &x, const torch::Tensor &y) const;

    int iterations() const;
    bool converged() const;
    /// The objective ½‖W‖² + C·Σ loss at the current weights (in standardised feature space).
    double objective() const;
    int classes() const;
    static std::string kindName(Kind kind); ///< "logreg", "svm"
    static Kind parseKind(const std::string &name); ///< throws UsageError

private:
    struct State;
    Options options_;
    std::unique_ptr<State> state_;
};

} // namespace convscope
