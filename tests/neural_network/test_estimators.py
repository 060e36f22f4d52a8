"""Behaviour of SGDNetClassifier and SGDNetRegressor on real and synthetic data."""

import pickle
import re

import numpy as np
import pytest
from scipy import special
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, hinge_loss, log_loss, recall_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss.losses import available_losses, get_loss, make_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor
from skloss.neural_network._output import compiled_route, output_form

quiet = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, random_state=0, stratify=y)


def _digits_net(**kw):
    params = dict(hidden_layer_sizes=(64,), batch_size=32, max_iter=30, random_state=0)
    params.update(kw)
    return SGDNetClassifier(**params)


# ---------------------------------------------------------------- accuracy
@quiet
def test_digits_log_loss(digits):
    Xtr, Xte, ytr, yte = digits
    clf = _digits_net().fit(Xtr, ytr)
    assert accuracy_score(yte, clf.predict(Xte)) >= 0.95
    proba = clf.predict_proba(Xte)
    np.testing.assert_allclose(proba, special.softmax(clf.decision_function(Xte), axis=1), rtol=1e-10)
    assert log_loss(yte, proba) < 0.15
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 10 and clf.n_layers_ == 3


@quiet
@pytest.mark.parametrize("loss", available_losses("classification"))
def test_digits_every_classification_loss(digits, loss):
    Xtr, Xte, ytr, yte = digits
    clf = _digits_net(loss=loss).fit(Xtr, ytr)
    assert accuracy_score(yte, clf.predict(Xte)) >= 0.93
    assert clf.loss_ == get_loss(loss)


@quiet
def test_binary_probabilities_and_decision():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SGDNetClassifier(hidden_layer_sizes=(8,), batch_size=32, max_iter=20, random_state=0)
    clf.fit(X, y)
    score = clf.decision_function(X)
    assert score.shape == (X.shape[0],)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], special.expit(score), rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(score > 0).astype(int)])
    assert accuracy_score(y, clf.predict(X)) > 0.97


def test_predict_proba_only_for_probabilistic_losses(digits):
    assert not hasattr(SGDNetClassifier(loss="hinge"), "predict_proba")
    assert not hasattr(SGDNetClassifier(loss="hinge"), "predict_log_proba")
    assert hasattr(SGDNetClassifier(loss="modified_huber"), "predict_proba")
    assert hasattr(SGDNetClassifier(), "predict_proba")
    Xtr, _, ytr, _ = digits
    clf = SGDNetClassifier(loss="modified_huber", hidden_layer_sizes=(), max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(Xtr[ytr < 2], ytr[ytr < 2])
    raw = clf.decision_function(Xtr[:20])
    np.testing.assert_allclose(clf.predict_proba(Xtr[:20])[:, 1], (np.clip(raw, -1, 1) + 1) / 2)


# ---------------------------------------------------------------- SGD peers
@quiet
def test_linear_hinge_reaches_sgdclassifier_objective():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-3

    def objective(decision, w):  # SGDClassifier's objective, from sklearn's metric
        return hinge_loss(2 * y - 1, decision) + alpha / 2 * np.sum(w * w)

    sgd = SGDClassifier(loss="hinge", alpha=alpha, max_iter=1000, tol=1e-6, random_state=0)
    sgd.fit(X, y)
    ours = SGDNetClassifier(
        loss="hinge", hidden_layer_sizes=(), alpha=alpha, learning_rate="adaptive",
        batch_size=32, max_iter=300, tol=1e-5, random_state=0,
    ).fit(X, y)
    assert len(ours.coefs_) == 1 and ours.coefs_[0].shape == (X.shape[1], 1)
    ours_obj = objective(ours.decision_function(X), ours.coefs_[0])
    assert ours_obj <= 1.05 * objective(sgd.decision_function(X), sgd.coef_)
    # the reported objective is the same function of the final weights
    assert ours.loss_curve_[-1] == pytest.approx(ours_obj, rel=0.05)


# ---------------------------------------------------------------- partial_fit
@quiet
def test_partial_fit_over_chunks(digits):
    Xtr, Xte, ytr, yte = digits
    clf = SGDNetClassifier(hidden_layer_sizes=(64,), batch_size=32, random_state=0)
    chunks = np.array_split(np.arange(ytr.shape[0]), 5)
    for epoch in range(10):
        for i, chunk in enumerate(chunks):
            kw = {"classes": np.arange(10)} if epoch == i == 0 else {}
            clf.partial_fit(Xtr[chunk], ytr[chunk], **kw)
    assert clf.n_iter_ == 50 and clf.t_ == 10 * ytr.shape[0]
    assert len(clf.loss_curve_) == 50
    assert accuracy_score(yte, clf.predict(Xte)) >= 0.95


@quiet
def test_partial_fit_once_equals_one_epoch_of_fit(digits):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(16,), shuffle=False, random_state=1, batch_size=50)
    a = SGDNetClassifier(max_iter=1, **kw).fit(Xtr, ytr)
    b = SGDNetClassifier(**kw).partial_fit(Xtr, ytr, classes=np.unique(ytr))
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(u, v)


def test_partial_fit_errors(digits):
    Xtr, _, ytr, _ = digits
    with pytest.raises(ValueError, match="classes must be passed"):
        SGDNetClassifier().partial_fit(Xtr, ytr)
    clf = SGDNetClassifier(hidden_layer_sizes=(4,)).partial_fit(Xtr[ytr < 5], ytr[ytr < 5],
                                                                 classes=np.arange(5))
    before = [c.copy() for c in clf.coefs_]
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(Xtr, ytr)
    for u, v in zip(before, clf.coefs_):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(ValueError, match="balanced"):
        SGDNetClassifier(class_weight="balanced").partial_fit(Xtr, ytr, classes=np.arange(10))


# ---------------------------------------------------------------- precision, seeds
@quiet
def test_float32_end_to_end(digits):
    Xtr, Xte, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(32,), max_iter=2, random_state=0)
    c32 = SGDNetClassifier(**kw).fit(Xtr.astype(np.float32), ytr)
    c64 = SGDNetClassifier(**kw).fit(Xtr, ytr)
    assert all(c.dtype == np.float32 for c in c32.coefs_ + c32.intercepts_)
    assert c32.decision_function(Xte.astype(np.float32)).dtype == np.float32
    assert c32.predict_proba(Xte.astype(np.float32)).dtype == np.float32
    assert all(c.dtype == np.float64 for c in c64.coefs_)
    for u, v in zip(c32.coefs_, c64.coefs_):
        np.testing.assert_allclose(u, v, rtol=1e-3, atol=1e-4)


@quiet
def test_random_state_reproducible(digits):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=3)
    a = SGDNetClassifier(random_state=5, **kw).fit(Xtr, ytr)
    b = SGDNetClassifier(random_state=5, **kw).fit(Xtr, ytr)
    c = SGDNetClassifier(random_state=6, **kw).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.loss_curve_ == b.loss_curve_
    assert not np.allclose(a.coefs_[0], c.coefs_[0])


# ---------------------------------------------------------------- divergence
# (a stated epoch budget: the "Maximum iterations" notice is expected, not asserted)
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning")
def test_divergence_warns_and_keeps_a_usable_model():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = dict(learning_rate_init=50.0, max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"learning_rate_init=50\.0") as record:
        reg = SGDNetRegressor(**kw).fit(X, y)
    assert any("diverged" in str(w.message) for w in record)
    assert np.all(np.isfinite(reg.loss_curve_)) and len(reg.loss_curve_) == reg.n_iter_
    assert all(np.all(np.isfinite(c)) for c in reg.coefs_ + reg.intercepts_)
    # the rejected epochs are undone and the rate cut: the model still learns
    assert reg.score(X, y) > 0.3


# (a stated epoch budget: the "Maximum iterations" notice is expected, not asserted)
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning")
def test_divergence_in_first_epoch_classifier(digits):
    Xtr, _, ytr, _ = digits
    clf = SGDNetClassifier(loss="exponential", learning_rate_init=1e4, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="learning_rate_init=10000.0"):
        clf.fit(Xtr * 100, ytr)
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_ + clf.intercepts_)
    assert np.all(np.isfinite(clf.decision_function(Xtr)))


# ---------------------------------------------------------------- stopping, schedules
@quiet
def test_early_stopping_keeps_best_epoch(digits):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3,
              learning_rate_init=0.05, max_iter=100, random_state=0)
    clf = SGDNetClassifier(**kw).fit(Xtr, ytr)
    assert clf.n_iter_ < 100 and clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert all(s < 0 for s in clf.validation_scores_)  # minus the validation log loss
    best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    assert best_epoch < clf.n_iter_
    # same split, same epochs: the run stopped at the best epoch has the same weights
    kw["max_iter"] = best_epoch
    ref = SGDNetClassifier(**kw).fit(Xtr, ytr)
    np.testing.assert_array_equal(clf.coefs_[0], ref.coefs_[0])


@quiet
def test_early_stopping_with_a_scorer(digits):
    Xtr, _, ytr, _ = digits
    clf = SGDNetClassifier(hidden_layer_sizes=(16,), early_stopping=True, scoring="accuracy",
                           batch_size=32, max_iter=15, random_state=0).fit(Xtr, ytr)
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ > 0.9


@quiet
def test_verbose_lines(digits, capsys):
    Xtr, _, ytr, _ = digits
    SGDNetClassifier(hidden_layer_sizes=(8,), max_iter=3, verbose=1, learning_rate="invscaling",
                     learning_rate_init=0.5, power_t=0.25, random_state=0).fit(Xtr, ytr)
    lines = capsys.readouterr().out.strip().splitlines()
    pattern = r"Epoch (\d), loss = ([0-9.]+), learning rate = ([0-9.e-]+), [0-9.]+ m?s"
    matches = [re.fullmatch(pattern, line) for line in lines]
    assert len(lines) == 3 and all(matches)
    # invscaling: lr = learning_rate_init / (t + 1) ** power_t after each epoch
    n = Xtr.shape[0]
    rates = [float(m.group(3)) for m in matches]
    expected = [0.5, 0.5 / (n + 1) ** 0.25, 0.5 / (2 * n + 1) ** 0.25]
    np.testing.assert_allclose(rates, expected, rtol=1e-5)


@quiet
def test_adaptive_schedule_stops_like_mlpclassifier(digits, capsys):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(8,), learning_rate="adaptive", learning_rate_init=0.01,
              tol=1e9, n_iter_no_change=1, max_iter=100, random_state=0)
    ours = SGDNetClassifier(verbose=1, **kw).fit(Xtr, ytr)
    mlp = MLPClassifier(solver="sgd", **kw).fit(Xtr, ytr)
    assert ours.n_iter_ == mlp.n_iter_ < 100
    assert capsys.readouterr().out.count("Setting learning rate to") == 6


@quiet
def test_warm_start_continues(digits):
    Xtr, _, ytr, _ = digits
    clf = SGDNetClassifier(hidden_layer_sizes=(8,), max_iter=4, warm_start=True, random_state=0)
    clf.fit(Xtr, ytr)
    first = clf.coefs_[0].copy()
    clf.fit(Xtr, ytr)
    assert clf.n_iter_ == 8 and len(clf.loss_curve_) == 8
    assert not np.array_equal(first, clf.coefs_[0])
    clf.set_params(loss="hinge")  # a new output loss on the same network
    clf.fit(Xtr, ytr)
    assert clf.loss_ == get_loss("hinge") and not hasattr(clf, "predict_proba")
    clf.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match="layer sizes"):
        clf.fit(Xtr, ytr)


# ---------------------------------------------------------------- weights
@quiet
def test_class_weight_is_a_sample_weight(digits):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    cw = {k: 1.0 + k / 3 for k in range(10)}
    a = SGDNetClassifier(class_weight=cw, **kw).fit(Xtr, ytr)
    b = SGDNetClassifier(**kw).fit(Xtr, ytr, sample_weight=np.array([cw[k] for k in ytr]))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)
    counts = np.bincount(ytr)
    a = SGDNetClassifier(class_weight="balanced", **kw).fit(Xtr, ytr)
    b = SGDNetClassifier(**kw).fit(Xtr, ytr, sample_weight=len(ytr) / (10 * counts[ytr]))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)


@quiet
def test_focal_with_balanced_class_weight_raises_minority_recall():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    keep = (y == 1) | (rng.uniform(size=y.shape[0]) < 0.15)  # ~30 malignant vs 357 benign
    X, y = X[keep], y[keep]
    kw = dict(loss="focal", hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    plain = SGDNetClassifier(**kw).fit(X, y)
    weighted = SGDNetClassifier(class_weight="balanced", **kw).fit(X, y)
    assert recall_score(y, weighted.predict(X), pos_label=0) >= recall_score(
        y, plain.predict(X), pos_label=0)
    assert recall_score(y, weighted.predict(X), pos_label=0) > 0.9


# ---------------------------------------------------------------- regression
def _positive_data(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    mu = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])
    return X, rng.gamma(2.0, mu / 2.0)


@quiet
@pytest.mark.parametrize("name", available_losses("regression"))
def test_every_regression_loss_beats_the_constant(name):
    X, y = _positive_data()
    loss = get_loss(name)
    reg = SGDNetRegressor(loss=name, hidden_layer_sizes=(16,), max_iter=60, optimizer="adam",
                          learning_rate_init=0.01, random_state=0).fit(X, y)
    raw = np.asarray(loss.link(reg.predict(X))) if name != "quantile" else None
    assert np.all(np.isfinite(reg.predict(X)))
    const = loss.init_raw_prediction(y)
    fitted_raw = reg._raw(X)[:, 0]
    np.testing.assert_allclose(reg.predict(X), loss.inverse_link(fitted_raw))
    assert np.mean(loss.loss(y, fitted_raw)) < 0.9 * np.mean(loss.loss(y, np.full_like(y, const)))
    del raw


@quiet
def test_quantile_regression_coverage():
    X, y = _positive_data(2000, seed=1)
    reg = SGDNetRegressor(loss=get_loss("quantile", quantile=0.8), hidden_layer_sizes=(8,),
                          optimizer="adam", max_iter=50, random_state=0).fit(X, y)
    assert np.mean(y <= reg.predict(X)) == pytest.approx(0.8, abs=0.05)


@quiet
def test_multi_output_regression():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    Y = np.column_stack([X[:, 0] - X[:, 1], np.sin(X[:, 2])]) + 0.05 * rng.normal(size=(300, 2))
    reg = SGDNetRegressor(hidden_layer_sizes=(32,), max_iter=100, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (300, 2)
    assert reg.score(X, Y) > 0.9


# ---------------------------------------------------------------- custom losses
@quiet
def test_custom_loss_takes_the_python_route_with_the_same_result():
    X, y = _positive_data()
    square = make_loss(loss=lambda y, r: (y - r) ** 2, gradient=lambda y, r: 2.0 * (r - y),
                       name="my_square")
    assert compiled_route(square, "regression") is None
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    a = SGDNetRegressor(loss=square, **kw).fit(X, y)
    b = SGDNetRegressor(loss="squared_error", **kw).fit(X, y)
    for u, v in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)


@quiet
def test_custom_classification_loss(digits):
    Xtr, _, ytr, _ = digits
    logistic = make_loss(
        loss=lambda y, r: np.log1p(np.exp(-abs(r))) + max(r, 0.0) - y * r,
        gradient=lambda y, r: 1.0 / (1.0 + np.exp(-r)) - y,
        link="logit", task="classification", name="my_logistic",
    )
    mask = ytr < 2
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    a = SGDNetClassifier(loss=logistic, **kw).fit(Xtr[mask], ytr[mask])
    b = SGDNetClassifier(loss="log_loss", **kw).fit(Xtr[mask], ytr[mask])
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-7, atol=1e-10)
    assert hasattr(a, "predict_proba")


@pytest.mark.parametrize("name", available_losses())
def test_every_builtin_loss_runs_compiled(name):
    loss = get_loss(name)
    outputs = [1, 3] if loss.task == "classification" else [1, 2]
    for n_outputs in outputs:
        assert compiled_route(loss, output_form(loss, n_outputs)) is not None


# ---------------------------------------------------------------- API, errors
@quiet
def test_loss_object_is_not_mutated(digits):
    Xtr, _, ytr, _ = digits
    loss = get_loss("focal", gamma=3.0)
    state = pickle.dumps(loss)
    clf = SGDNetClassifier(loss=loss, hidden_layer_sizes=(4,), max_iter=2).fit(Xtr, ytr)
    assert clf.loss is loss and pickle.dumps(loss) == state
    assert clf.loss_ is not loss and clf.loss_ == loss


@quiet
def test_grid_search_over_losses_in_a_pipeline(digits):
    Xtr, Xte, ytr, yte = digits
    pipe = make_pipeline(StandardScaler(), SGDNetClassifier(max_iter=10, random_state=0))
    grid = GridSearchCV(
        pipe,
        [
            {"sgdnetclassifier__loss": [get_loss("focal")],
             "sgdnetclassifier__loss__gamma": [0.5, 2.0]},
            {"sgdnetclassifier__loss": ["log_loss", "hinge"],
             "sgdnetclassifier__hidden_layer_sizes": [(16,), ()]},
        ],
        cv=3,
    ).fit(Xtr[:600], ytr[:600])
    assert len(grid.cv_results_["params"]) == 6
    assert grid.score(Xte, yte) > 0.85
    focal = [p for p in grid.cv_results_["params"] if "sgdnetclassifier__loss__gamma" in p]
    assert sorted(p["sgdnetclassifier__loss__gamma"] for p in focal) == [0.5, 2.0]


@quiet
def test_pickle_roundtrip_and_continue(digits):
    Xtr, Xte, ytr, _ = digits
    clf = SGDNetClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(Xtr, ytr)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(Xte), clone.predict_proba(Xte))
    clf.partial_fit(Xtr, ytr)
    clone.partial_fit(Xtr, ytr)
    np.testing.assert_array_equal(clf.coefs_[0], clone.coefs_[0])


@quiet
def test_pandas_input():
    pd = pytest.importorskip("pandas")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    clf = SGDNetClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.feature_names_in_, np.asarray(X.columns))
    assert clf.predict(X).shape == (X.shape[0],)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X.to_numpy())
    reg = SGDNetRegressor(hidden_layer_sizes=(), max_iter=5).fit(X, pd.Series(y * 1.0))
    assert reg.n_features_in_ == X.shape[1]


def test_task_mismatch_and_unknown_loss():
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="'squared_error' is a regression loss"):
        SGDNetClassifier(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="'hinge' is a classification loss.*squared_error"):
        SGDNetRegressor(loss="hinge").fit(X, y * 1.0)
    with pytest.raises(ValueError, match="Unknown loss 'nope'.*log_loss"):
        SGDNetClassifier(loss="nope").fit(X, y)
    assert not hasattr(SGDNetClassifier(loss="nope"), "predict_proba")


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, y: (np.where(X > 1, np.nan, X), y), "NaN"),
        (lambda X, y: (np.where(X > 1, np.inf, X), y), "infinity"),
        (lambda X, y: (X, np.where(y > 0.5, np.inf, y)), "infinity|NaN"),
        (lambda X, y: (X[:, :1].ravel(), y), "2D array"),
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
        (lambda X, y: (X, -np.abs(y) - 1), "poisson"),
    ],
    ids=["nan_X", "inf_X", "inf_y", "1d_X", "short_y", "negative_y_poisson"],
)
def test_bad_input_leaves_the_fitted_estimator_unchanged(make, match):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 4))
    y = np.exp(rng.normal(size=50))
    with pytest.warns(ConvergenceWarning):
        reg = SGDNetRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=2,
                              random_state=0).fit(X, y)
    state = pickle.dumps(reg)
    bad_X, bad_y = make(X, y)
    with pytest.raises(ValueError, match=match):
        reg.fit(bad_X, bad_y)
    assert pickle.dumps(reg) == state


def test_invalid_parameters():
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.arange(20) % 3
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        SGDNetClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate_init"):
        SGDNetClassifier(learning_rate_init=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="delta"):
        SGDNetRegressor(loss=get_loss("huber", delta=-1.0)).fit(X, y * 1.0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        SGDNetClassifier().fit(X, np.zeros(20))
    clf = SGDNetClassifier(hidden_layer_sizes=(2,), max_iter=1)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])


@quiet
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_csr_input_gives_the_dense_result(dtype, n_classes):
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 30)) * (rng.uniform(size=(120, 30)) < 0.2)
    y = rng.randint(n_classes, size=120)
    kw = dict(hidden_layer_sizes=(6,), batch_size=16, max_iter=3, random_state=0)
    dense = SGDNetClassifier(**kw).fit(X.astype(dtype), y)
    csr = SGDNetClassifier(**kw).fit(sp.csr_matrix(X.astype(dtype)), y)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    for u, v in zip(dense.coefs_ + dense.intercepts_, csr.coefs_ + csr.intercepts_):
        assert v.dtype == dtype
        np.testing.assert_allclose(u, v, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(dense.decision_function(X.astype(dtype)),
                               csr.decision_function(sp.csr_matrix(X.astype(dtype))),
                               rtol=rtol, atol=rtol)


@quiet
def test_csr_regression_and_custom_loss():
    import scipy.sparse as sp

    rng = np.random.RandomState(1)
    X = rng.normal(size=(100, 20)) * (rng.uniform(size=(100, 20)) < 0.3)
    y = X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=100)
    square = make_loss(loss=lambda y, r: (y - r) ** 2, gradient=lambda y, r: 2.0 * (r - y),
                       name="my_square")
    kw = dict(hidden_layer_sizes=(5,), batch_size=10, max_iter=3, random_state=0)
    ref = SGDNetRegressor(**kw).fit(X, y)
    for loss in ["squared_error", square]:
        est = SGDNetRegressor(loss=loss, **kw).fit(sp.csr_matrix(X), y)
        np.testing.assert_allclose(est.coefs_[0], ref.coefs_[0], rtol=1e-9, atol=1e-12)
