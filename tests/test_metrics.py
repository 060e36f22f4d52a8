"""skloss.metrics: entropy, cross-entropy, divergences and loss scorers.

References: hand computations with ``math.log2``, scipy.stats.entropy,
scipy.spatial.distance.jensenshannon, and scikit-learn's metrics.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy as scipy_entropy
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor, Ridge
from sklearn.metrics import (
    hinge_loss,
    log_loss,
    mean_absolute_error,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_squared_error,
)
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skloss.losses import available_losses, get_loss
from skloss.metrics import cross_entropy, entropy, js_divergence, kl_divergence, make_loss_scorer

P = [0.10, 0.40, 0.50]
Q = [0.80, 0.15, 0.05]


# ------------------------------------------------------------- worked example
def test_worked_example_in_bits():
    h_p = -sum(p * math.log2(p) for p in P)
    h_pq = -sum(p * math.log2(q) for p, q in zip(P, Q))
    kl = sum(p * math.log2(p / q) for p, q in zip(P, Q))
    assert h_p == pytest.approx(1.360964, abs=1e-6)
    assert h_pq == pytest.approx(3.2879, abs=1e-4)
    assert entropy(P) == pytest.approx(h_p, rel=1e-14)
    assert cross_entropy(P, Q) == pytest.approx(h_pq, rel=1e-14)
    assert kl_divergence(P, Q) == pytest.approx(kl, rel=1e-14)
    # H(P, Q) = H(P) + KL(P || Q)
    assert cross_entropy(P, Q) == pytest.approx(entropy(P) + kl_divergence(P, Q), rel=1e-14)
    assert isinstance(entropy(P), float)


def test_nats_and_other_bases():
    h_nats = -sum(p * math.log(p) for p in P)
    assert entropy(P, base=np.e) == pytest.approx(h_nats, rel=1e-14)
    assert entropy(P, base=10) == pytest.approx(h_nats / math.log(10), rel=1e-14)
    kl_nats = sum(p * math.log(p / q) for p, q in zip(P, Q))
    assert kl_divergence(P, Q, base=np.e) == pytest.approx(kl_nats, rel=1e-14)
    assert cross_entropy(P, Q, base=np.e) == pytest.approx(-sum(p * math.log(q) for p, q in zip(P, Q)), rel=1e-14)


def test_against_scipy_row_wise():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=7)
    q = rng.dirichlet(np.ones(5), size=7)
    assert entropy(p).shape == (7,)
    np.testing.assert_allclose(entropy(p), scipy_entropy(p, base=2, axis=1), rtol=1e-12)
    np.testing.assert_allclose(kl_divergence(p, q), scipy_entropy(p, q, base=2, axis=1), rtol=1e-12)
    np.testing.assert_allclose(
        cross_entropy(p, q, base=np.e), scipy_entropy(p, axis=1) + scipy_entropy(p, q, axis=1), rtol=1e-12
    )
    # scipy's jensenshannon is the square root of the divergence
    js_ref = np.array([jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q)])
    np.testing.assert_allclose(js_divergence(p, q), js_ref, rtol=1e-10)
    np.testing.assert_allclose(js_divergence(p, q), js_divergence(q, p), rtol=1e-14)


def test_zero_probabilities_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert entropy([1.0, 0.0]) == 0.0  # 0 log 0 = 0
        assert entropy([0.5, 0.5, 0.0]) == pytest.approx(1.0, rel=1e-15)
        assert cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0
        assert kl_divergence([0.0, 1.0], [0.5, 0.5]) == pytest.approx(1.0, rel=1e-15)
        assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf  # q lacks support of p
        assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
        assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0, rel=1e-15)  # the maximum, 1 bit
        assert js_divergence(P, P) == 0.0
        assert kl_divergence(P, P) == 0.0
        out = kl_divergence([[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
        assert out[0] == np.inf and out[1] == 0.0


def test_one_hot_cross_entropy_is_log_loss():
    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(4), size=10)
    y = rng.integers(0, 4, 10)
    onehot = np.eye(4)[y]
    ce = cross_entropy(onehot, q, base=np.e)
    np.testing.assert_allclose(ce, kl_divergence(onehot, q, base=np.e), rtol=1e-14)
    assert ce.mean() == pytest.approx(log_loss(y, q, labels=range(4)), rel=1e-12)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([0.5, 0.6], "sum to 1"),
        ([1.2, -0.2], "negative"),
        ([0.5, np.nan], "NaN"),
        ([[0.5, 0.5], [0.7, 0.7]], r"row 1"),
        ([], "non-empty"),
        (np.ones((2, 2, 2)) / 2, "shape"),
        (["a", "b"], "dtype"),
    ],
)
def test_invalid_distributions(bad, match):
    with pytest.raises(ValueError, match=match):
        entropy(bad)
    with pytest.raises(ValueError, match=match):
        kl_divergence(bad, bad)


def test_shape_mismatch_and_base():
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    for base in (1, 0, -2, np.nan, "2", True):
        with pytest.raises(ValueError, match="base"):
            entropy(P, base=base)


def test_float32_input_tolerance():
    p32 = np.full(3, 1 / 3, dtype=np.float32)
    assert entropy(p32) == pytest.approx(math.log2(3), rel=1e-6)


# ---------------------------------------------------------------- scorers
@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_log_loss_scorer_binary_and_multiclass(iris, cancer):
    scorer = make_loss_scorer("log_loss")
    for X, y in (iris, cancer):
        clf = LogisticRegression(max_iter=2000).fit(X, y)
        assert scorer(clf, X, y) == pytest.approx(-log_loss(y, clf.predict_proba(X)), rel=1e-10)
        w = np.random.default_rng(0).uniform(0.1, 3.0, y.shape[0])
        assert scorer(clf, X, y, sample_weight=w) == pytest.approx(
            -log_loss(y, clf.predict_proba(X), sample_weight=w), rel=1e-10
        )


def test_string_labels_follow_classes_(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LogisticRegression(max_iter=2000).fit(X, names)
    ref = -log_loss(names, clf.predict_proba(X), labels=clf.classes_)
    assert make_loss_scorer("log_loss")(clf, X, names) == pytest.approx(ref, rel=1e-10)
    binary = np.where(y == 0, "no", "yes")
    clf2 = LogisticRegression(max_iter=2000).fit(X, binary)
    ref2 = -log_loss(binary, clf2.predict_proba(X))
    assert make_loss_scorer("log_loss")(clf2, X, binary) == pytest.approx(ref2, rel=1e-10)
    with pytest.raises(ValueError, match="not fitted on"):
        make_loss_scorer("log_loss")(clf, X[:3], np.array(["setosa", "rose", "setosa"]))


def test_hinge_scorer_matches_sklearn(iris, cancer):
    scorer = make_loss_scorer("hinge")
    for X, y in (cancer, iris):
        svc = LinearSVC(C=0.1).fit(X, y)
        ref = -hinge_loss(y, svc.decision_function(X), labels=np.unique(y))
        assert scorer(svc, X, y) == pytest.approx(ref, rel=1e-10)


def test_regression_scorers_match_sklearn():
    X, y = load_diabetes(return_X_y=True)
    ridge = Ridge(alpha=0.1).fit(X, y)
    pred = ridge.predict(X)
    assert make_loss_scorer("squared_error")(ridge, X, y) == pytest.approx(-mean_squared_error(y, pred), rel=1e-12)
    assert make_loss_scorer("mse")(ridge, X, y) == pytest.approx(-mean_squared_error(y, pred), rel=1e-12)
    w = np.random.default_rng(3).uniform(0.5, 2.0, y.shape[0])
    assert make_loss_scorer("squared_error")(ridge, X, y, sample_weight=w) == pytest.approx(
        -mean_squared_error(y, pred, sample_weight=w), rel=1e-12
    )
    names = set(available_losses("regression"))
    if "absolute_error" in names:
        assert make_loss_scorer("absolute_error")(ridge, X, y) == pytest.approx(-mean_absolute_error(y, pred), rel=1e-12)
    if "quantile" in names:
        got = make_loss_scorer("quantile", quantile=0.8)(ridge, X, y)
        assert got == pytest.approx(-mean_pinball_loss(y, pred, alpha=0.8), rel=1e-12)
    if "poisson" in names:
        pois = make_pipeline(StandardScaler(), PoissonRegressor(alpha=1e-3)).fit(X, y)
        mu = pois.predict(X)
        loss = get_loss("poisson")
        # the scorer evaluates the loss at raw = log(mu): compare with the loss itself
        ref = -np.mean(loss.loss(y, np.log(mu)))
        assert make_loss_scorer("poisson")(pois, X, y) == pytest.approx(ref, rel=1e-12)
        # and the loss differs from the deviance by terms free of mu: same ranking
        assert np.isfinite(mean_poisson_deviance(y, mu))


def test_grid_search_over_losses_scored_by_one_loss(cancer):
    X, y = cancer
    cv = KFold(3, shuffle=True, random_state=0)
    gs = GridSearchCV(LinearSVC(), {"C": [0.001, 1.0]}, scoring=make_loss_scorer("hinge"), cv=cv).fit(X, y)
    for i, C in enumerate((0.001, 1.0)):
        folds = []
        for train, test in cv.split(X, y):
            svc = LinearSVC(C=C).fit(X[train], y[train])
            folds.append(-hinge_loss(y[test], svc.decision_function(X[test])))
        assert gs.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(folds), rel=1e-8)

    gs = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": [0.1, 10.0]},
        scoring=make_loss_scorer("squared_error"), cv=3,
    ).fit(*load_diabetes(return_X_y=True))
    ref = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": [0.1, 10.0]},
        scoring="neg_mean_squared_error", cv=3,
    ).fit(*load_diabetes(return_X_y=True))
    np.testing.assert_allclose(gs.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-10)


def test_grid_search_routes_sample_weight_to_the_scorer(cancer):
    X, y = cancer
    w = np.random.default_rng(0).uniform(0.1, 3.0, y.shape[0])
    cv = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "scorer does not support sample_weight"
        gs = GridSearchCV(
            LogisticRegression(max_iter=5000), {"C": [0.1]}, scoring=make_loss_scorer("log_loss"), cv=cv
        ).fit(X, y, sample_weight=w)
    folds = []
    for train, test in cv.split(X, y):
        clf = LogisticRegression(C=0.1, max_iter=5000).fit(X[train], y[train], sample_weight=w[train])
        folds.append(-log_loss(y[test], clf.predict_proba(X[test]), sample_weight=w[test]))
    assert gs.cv_results_["mean_test_score"][0] == pytest.approx(np.mean(folds), rel=1e-6)


def test_metadata_routing(cancer):
    X, y = cancer
    w = np.random.default_rng(1).uniform(0.1, 3.0, y.shape[0])
    cv = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_loss_scorer("log_loss").set_score_request(sample_weight=True)
        est = LogisticRegression(C=0.1, max_iter=5000).set_fit_request(sample_weight=True)
        scores = cross_val_score(est, X, y, cv=cv, scoring=scorer, params={"sample_weight": w})
    folds = []
    for train, test in cv.split(X, y):
        clf = LogisticRegression(C=0.1, max_iter=5000).fit(X[train], y[train], sample_weight=w[train])
        folds.append(-log_loss(y[test], clf.predict_proba(X[test]), sample_weight=w[test]))
    np.testing.assert_allclose(scores, folds, rtol=1e-6)


def test_certain_predictions_are_not_clipped():
    # a tree predicts probabilities of exactly 0 and 1
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    tree = DecisionTreeClassifier().fit(X, y)
    scorer = make_loss_scorer("log_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scorer(tree, X, y) == 0.0  # certain and right: the limit, 0
        assert scorer(tree, X, 1 - y) == -np.inf  # certain and wrong: infinite loss
        # a wrong sample with zero weight does not count
        assert scorer(tree, X, np.array([1, 0, 1, 1]), sample_weight=[0.0, 1, 1, 1]) == 0.0
    tree3 = DecisionTreeClassifier().fit(np.arange(6.0)[:, None], [0, 0, 1, 1, 2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scorer(tree3, np.arange(6.0)[:, None], [0, 0, 1, 1, 2, 2]) == 0.0
        assert scorer(tree3, np.arange(6.0)[:, None], [1, 0, 1, 1, 2, 2]) == -np.inf


def test_scorer_errors(iris, cancer):
    X, y = iris
    svc = LinearSVC().fit(X, y)
    with pytest.raises(ValueError, match="predict_proba"):
        make_loss_scorer("log_loss")(svc, X, y)
    with pytest.raises(ValueError, match="regression loss"):
        make_loss_scorer("squared_error")(svc, X, y)
    ridge = Ridge().fit(X, y)
    with pytest.raises(ValueError, match="classes_"):
        make_loss_scorer("hinge")(ridge, X, y)
    with pytest.raises(ValueError, match="Unknown loss"):
        make_loss_scorer("no_such_loss")
    if "poisson" in available_losses():
        lin = LinearRegression().fit(X, y - 1.0)  # predicts negative values
        with pytest.raises(ValueError, match="domain"):
            make_loss_scorer("poisson")(lin, X, np.abs(y - 1.0))


def test_scorer_repr_params_and_pickle():
    scorer = make_loss_scorer("log_loss", label_smoothing=0.1)
    assert "label_smoothing=0.1" in repr(scorer)
    again = pickle.loads(pickle.dumps(scorer))
    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    assert again(clf, X, y) == scorer(clf, X, y)
    # label smoothing changes the loss: it is the smoothed cross-entropy, in nats
    k, eps = 3, 0.1
    t = (1 - eps) * np.eye(k)[y] + eps / k
    ref = -np.mean(cross_entropy(t, clf.predict_proba(X), base=np.e))
    assert scorer(clf, X, y) == pytest.approx(ref, rel=1e-10)


def test_multimetric_scoring(cancer):
    from sklearn.model_selection import cross_validate

    X, y = cancer
    cv = KFold(3, shuffle=True, random_state=0)
    scoring = {"hinge": make_loss_scorer("hinge"), "log": make_loss_scorer("log_loss"), "acc": "accuracy"}
    res = cross_validate(LogisticRegression(max_iter=5000), X, y, cv=cv, scoring=scoring)
    for i, (train, test) in enumerate(cv.split(X, y)):
        clf = LogisticRegression(max_iter=5000).fit(X[train], y[train])
        assert res["test_hinge"][i] == pytest.approx(-hinge_loss(y[test], clf.decision_function(X[test])), rel=1e-8)
        assert res["test_log"][i] == pytest.approx(-log_loss(y[test], clf.predict_proba(X[test])), rel=1e-8)
