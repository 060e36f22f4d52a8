"""MLELogisticRegression against statsmodels, scikit-learn and scipy.optimize."""

import contextlib
import functools
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import optimize, special
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skloss import MLELogisticRegression
from skloss.linear_model import SeparationWarning, TrivialOptimumWarning
from skloss.losses import available_losses

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[:, :10], y


@pytest.fixture(scope="module")
def anes():
    d = sm.datasets.anes96.load_pandas().data
    return d[["logpopul", "selfLR", "age", "educ", "income"]], d["PID"]


# ----------------------------------------------------------------- statsmodels
@pytest.mark.parametrize("loss, model", [("log_loss", "Logit"), ("probit", "Probit")])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
def test_matches_statsmodels_spector(spector, loss, model, cov_type):
    X, y = spector
    # statsmodels' discrete models return HC0 for every HCx; HC1 is HC0 * n / (n - k)
    sm_cov = "HC0" if cov_type == "HC1" else cov_type
    ref = getattr(sm, model)(y, sm.add_constant(X)).fit(disp=0, tol=1e-12, maxiter=100, cov_type=sm_cov)
    est = MLELogisticRegression(loss=loss, cov_type=cov_type).fit(X, y)
    assert est.param_names_ == ["intercept", "GPA", "TUCE", "PSI"]
    np.testing.assert_allclose(est.params_, ref.params.values, rtol=0, atol=1e-5)
    bse = ref.bse.values * (np.sqrt(32 / (32 - 4)) if cov_type == "HC1" else 1.0)
    np.testing.assert_allclose(est.bse_, bse, rtol=0, atol=1e-4)
    np.testing.assert_allclose(est.bse_, bse, rtol=1e-6)
    if cov_type == "HC1":
        return
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-10)
    assert est.aic_ == pytest.approx(ref.aic, rel=1e-10)
    assert est.bic_ == pytest.approx(ref.bic, rel=1e-10)
    np.testing.assert_allclose(est.conf_int(0.1), ref.conf_int(0.1).values, atol=1e-4)
    table = est.summary()
    np.testing.assert_allclose(table["P>|z|"].values, ref.pvalues.values, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(table["z"].values, ref.tvalues.values, rtol=1e-5)


def test_matches_statsmodels_mnlogit(anes):
    X, y = anes
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    est = MLELogisticRegression().fit(X, y)
    assert est.multi_class_ == "multinomial"
    # statsmodels: params (p+1, K-1), classes 1..K-1 against class 0
    np.testing.assert_allclose(est.params_, ref.params.values.T.ravel(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(est.bse_, ref.bse.values.T.ravel(), rtol=1e-6, atol=1e-6)
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-10)
    assert est.aic_ == pytest.approx(ref.aic, rel=1e-10)
    assert est.bic_ == pytest.approx(ref.bic, rel=1e-10)
    assert est.param_names_[0] == f"{est.classes_[1]}: intercept"
    # the centred coefficients predict exactly as the reference-class ones
    P = est.predict_proba(X)
    np.testing.assert_allclose(P, ref.predict(sm.add_constant(X)), atol=1e-8)


def test_summary_text_without_pandas(spector, monkeypatch):
    import builtins

    X, y = spector
    est = MLELogisticRegression().fit(X.values, y.values)
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    text = est.summary()
    assert isinstance(text, str)
    assert "x0" in text and "intercept" in text and "std err" in text


# ----------------------------------------------------------------- scikit-learn
def _sk_objective(X, y, coef, intercept, alpha):
    raw = X @ coef.ravel() + intercept[0]
    z = 2 * y - 1
    return np.mean(np.logaddexp(0, -z * raw)) + 0.5 * alpha * coef.ravel() @ coef.ravel()


@pytest.mark.parametrize("C", [0.01, 1.0, None])
def test_matches_sklearn_logistic_objective(cancer, C):
    from sklearn.linear_model import LogisticRegression

    X, y = cancer
    n = X.shape[0]
    if C is None:
        sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1000, solver="newton-cholesky").fit(X, y)
        est = MLELogisticRegression(tol=1e-10).fit(X, y)
        alpha = 0.0
    else:
        alpha = 1.0 / (C * n)
        sk = LogisticRegression(C=C, tol=1e-12, max_iter=1000, solver="newton-cholesky").fit(X, y)
        est = MLELogisticRegression(penalty="l2", alpha=alpha, tol=1e-10).fit(X, y)
    f_sk = _sk_objective(X, y, sk.coef_, sk.intercept_, alpha)
    f_ours = _sk_objective(X, y, est.coef_, est.intercept_, alpha)
    assert est.objective_ == pytest.approx(f_ours, rel=1e-12)
    # same minimum: sklearn's C-scaled objective is C n times ours
    assert abs(f_ours - f_sk) <= 1e-8 * f_sk
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-5, atol=1e-6)


def test_matches_sklearn_multinomial(cancer):
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    n = X.shape[0]
    C = 0.5
    sk = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    est = MLELogisticRegression(penalty="l2", alpha=1 / (C * n), tol=1e-10).fit(X, y)
    np.testing.assert_allclose(est.coef_, sk.coef_, atol=1e-4)
    np.testing.assert_allclose(est.intercept_, sk.intercept_, atol=1e-4)
    np.testing.assert_allclose(est.predict_proba(X), sk.predict_proba(X), atol=1e-6)
    from sklearn.metrics import log_loss

    def f(coef, b):
        return log_loss(y, special.softmax(X @ coef.T + b, axis=1)) + 0.5 / (C * n) * np.sum(coef**2)

    assert f(est.coef_, est.intercept_) <= f(sk.coef_, sk.intercept_) + 1e-12
    assert f(est.coef_, est.intercept_) == pytest.approx(f(sk.coef_, sk.intercept_), rel=1e-8)


def test_l1_matches_sklearn_saga_objective(cancer):
    from sklearn.linear_model import LogisticRegression

    X, y = cancer
    n = X.shape[0]
    C = 0.05
    alpha = 1 / (C * n)
    est = MLELogisticRegression(penalty="l1", alpha=alpha, tol=1e-10).fit(X, y)
    sk = LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=100000).fit(X, y)
    f_sk = _sk_objective(X, y, sk.coef_, sk.intercept_, 0.0) + alpha * np.abs(sk.coef_).sum()
    assert est.objective_ <= f_sk + 1e-10
    assert est.objective_ == pytest.approx(f_sk, rel=1e-7)
    np.testing.assert_array_equal(est.coef_ != 0, np.abs(sk.coef_) > 1e-6)


@pytest.mark.parametrize("penalty", [None, "l2"])
def test_hinge_matches_svc_objective(cancer, penalty):
    from sklearn.svm import SVC

    X, y = cancer
    n = X.shape[0]
    alpha = 1e-2
    C = 1 / (alpha * n)
    est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=alpha).fit(X, y)
    svc = SVC(kernel="linear", C=C, tol=1e-10).fit(X, y)
    z = 2 * y - 1

    def f(coef, b):
        return np.mean(np.maximum(0, 1 - z * (X @ coef.ravel() + b))) + 0.5 * alpha * coef.ravel() @ coef.ravel()

    f_svc = f(svc.coef_, svc.intercept_[0])
    assert est.objective_ == pytest.approx(f(est.coef_, est.intercept_[0]), rel=1e-6)
    assert est.objective_ <= f_svc + 1e-9
    assert est.objective_ == pytest.approx(f_svc, rel=1e-6)
    assert not hasattr(est, "predict_proba")
    # no Hessian, one kink: a sandwich covariance (kernel curvature at the margin 1)
    assert est.cov_type_ == "HC0" and est.covariance_.shape == (X.shape[1] + 1,) * 2


# ----------------------------------------------------------------- scipy.optimize on the same objective
def _np_loss(name, y, raw):
    z = 2 * y - 1
    m = z * raw
    if name == "squared_hinge":
        return np.maximum(0, 1 - m) ** 2
    if name == "modified_huber":
        return np.where(m >= -1, np.maximum(0, 1 - m) ** 2, -4 * m)
    if name == "exponential":
        return np.exp(-m / 2) if False else np.exp(-m)
    if name == "probit":
        return -special.log_ndtr(m)
    if name == "log_loss":
        return np.logaddexp(0, -m)
    raise KeyError(name)


@pytest.mark.parametrize("name", ["squared_hinge", "modified_huber", "probit", "log_loss"])
@pytest.mark.parametrize("penalty", [None, "l2"])
def test_binary_losses_reach_scipy_optimum(cancer, name, penalty):
    X, y = cancer
    X, y = X[:200, :5], y[:200]
    alpha = 0.05 if penalty else 0.0
    est = MLELogisticRegression(loss=name, penalty=penalty, alpha=alpha, tol=1e-10).fit(X, y)

    def f(c):
        return np.mean(_np_loss(name, y, X @ c[:-1] + c[-1])) + 0.5 * alpha * c[:-1] @ c[:-1]

    res = optimize.minimize(f, np.zeros(6), method="BFGS", options={"gtol": 1e-10, "maxiter": 10000})
    assert est.objective_ == pytest.approx(f(np.r_[est.coef_.ravel(), est.intercept_]), rel=1e-10)
    assert est.objective_ <= res.fun + 1e-10


def test_exponential_loss_value(cancer):
    # the exponential loss of the catalogue (scaled as its docstring says) at the fit
    X, y = cancer
    est = MLELogisticRegression(loss="exponential", penalty="l2", alpha=0.01).fit(X[:150], y[:150])
    raw = est.decision_function(X[:150])
    per = est.loss_.loss(y[:150].astype(float), raw)
    assert est.objective_ == pytest.approx(per.mean() + 0.005 * np.sum(est.coef_ ** 2), rel=1e-10)


@pytest.mark.parametrize("loss", available_losses("classification"))
def test_every_loss_reaches_a_stationary_point(loss):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # (the perceptron's stationary point is w = 0 under any penalty, and the fit says so)
    with pytest.warns(TrivialOptimumWarning) if loss == "perceptron" else contextlib.nullcontext():
        est = MLELogisticRegression(loss=loss, penalty="l2", alpha=0.05, tol=1e-9).fit(X, y)
    assert est.converged_
    from skloss.linear_model._objective import LinearObjective

    k = 1 if est.multi_class_ == "binary" else 3
    if est.multi_class_ == "ovr":
        total = 0.0
        for j in range(3):
            obj = LinearObjective(est.loss_, X, (y == j).astype(float), l2_reg=0.05)
            c = np.r_[est.coef_[j], est.intercept_[j]]
            total += obj.value(c)
            if est.loss_.is_smooth:
                _, g = obj.value_grad(c)
                assert np.max(np.abs(g)) < 1e-7
        assert est.objective_ == pytest.approx(total, rel=1e-10)
        return
    obj = LinearObjective(est.loss_, X, y.astype(float), n_outputs=k, l2_reg=0.05)
    c = obj.pack(est.coef_, est.intercept_)
    assert est.objective_ == pytest.approx(obj.value(c), rel=1e-10)
    if est.loss_.is_smooth:
        _, g = obj.value_grad(c)
        assert np.max(np.abs(g)) < 1e-7
    else:
        # no direction decreases the objective (exact optimum of a convex problem)
        rng = np.random.RandomState(0)
        for _ in range(30):
            d = rng.normal(size=c.size)
            assert obj.value(c + 1e-4 * d) >= obj.value(c) - 1e-12


# ----------------------------------------------------------------- data handling
def test_sparse_equals_dense(cancer):
    X, y = cancer
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    for loss, pen in [("log_loss", "l2"), ("probit", None), ("hinge", "l2"), ("log_loss", "l1")]:
        make = functools.partial(MLELogisticRegression, loss=loss, penalty=pen,
                                 alpha=1e-2 if pen is not None else 0.0, tol=1e-10)
        if pen is not None:
            a, b = make().fit(Xs, y), make().fit(Xs.toarray(), y)
            np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
        else:
            # unpenalised probit: these data are quasi-separated, the MLE does not exist
            # (announced on both inputs) and the coefficients depend on where the solver
            # stops; the objective values agree
            with pytest.warns(SeparationWarning):
                a = make().fit(Xs, y)
            with pytest.warns(SeparationWarning):
                b = make().fit(Xs.toarray(), y)
        assert a.objective_ == pytest.approx(b.objective_, rel=1e-9)


def test_float32_kept_and_close(cancer):
    X, y = cancer
    a = MLELogisticRegression(penalty="l2", alpha=1e-2).fit(X.astype(np.float32), y)
    b = MLELogisticRegression(penalty="l2", alpha=1e-2).fit(X, y)
    assert a.coef_.dtype == np.float32 and b.coef_.dtype == np.float64
    assert a.decision_function(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(a.coef_, b.coef_, atol=2e-4)
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-5)


def test_sample_weight_equals_repetition_and_class_weight(cancer):
    X, y = cancer
    rng = np.random.RandomState(0)
    w = rng.randint(0, 3, size=y.size)
    a = MLELogisticRegression(tol=1e-10, penalty="l2", alpha=0.01).fit(X, y, sample_weight=w)
    b = MLELogisticRegression(tol=1e-10, penalty="l2", alpha=0.01).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    cw = {0: 2.0, 1: 0.5}
    c = MLELogisticRegression(class_weight=cw, penalty="l2", alpha=0.01, tol=1e-10).fit(X, y)
    d = MLELogisticRegression(penalty="l2", alpha=0.01, tol=1e-10).fit(X, y, sample_weight=np.where(y == 0, 2.0, 0.5))
    np.testing.assert_allclose(c.coef_, d.coef_, atol=1e-10)
    # frequency weights: the weighted loglik equals the repeated one
    e = MLELogisticRegression(tol=1e-10).fit(X[:, :3], y, sample_weight=w)
    f = MLELogisticRegression(tol=1e-10).fit(np.repeat(X[:, :3], w, axis=0), np.repeat(y, w))
    assert e.loglik_ == pytest.approx(f.loglik_, rel=1e-9)
    np.testing.assert_allclose(e.bse_, f.bse_, rtol=1e-6)


def test_separation_warns_and_stays_finite():
    X = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    with pytest.warns(SeparationWarning, match="alpha > 0"):
        est = MLELogisticRegression().fit(X, y)
    assert np.all(np.isfinite(est.coef_))
    # quasi-complete separation: a tie at the boundary
    X2 = np.array([[-2.0], [-1.0], [0.0], [0.0], [1.0], [2.0]])
    y2 = np.array([0, 0, 0, 1, 1, 1])
    with pytest.warns(SeparationWarning):
        est = MLELogisticRegression().fit(X2, y2)
    assert np.all(np.isfinite(est.coef_))
    # no warning with a penalty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLELogisticRegression(penalty="l2", alpha=0.1).fit(X, y)


def test_separation_on_many_rows_without_the_lp():
    # n (p + 1) > 2e6: no exact LP; the solver's last step decides, and it must
    # raise every margin (a separating direction)
    rng = np.random.RandomState(0)
    n, p = 50000, 40
    X = rng.normal(size=(n, p))
    on = rng.uniform(size=n) < 0.3
    X[on, 0] = 0.0  # ties on the hyperplane x_0 = 0: quasi-complete separation
    y = np.where(on, rng.uniform(size=n) < 0.5, X[:, 0] > 0).astype(int)
    with pytest.warns(SeparationWarning, match="alpha > 0"):
        est = MLELogisticRegression(tol=1e-6, cov_type=None).fit(X, y)
    assert np.all(np.isfinite(est.coef_))
    # overlapping classes with collinear features: the last step may be long (along
    # the null space) but separates nothing
    X[:, 1] = X[:, 2] + X[:, 3]
    y = (X[:, 2] + rng.logistic(size=n) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        MLELogisticRegression(tol=1e-6, cov_type=None).fit(X, y)


def test_no_separation_warning_on_overlapping_data(spector):
    X, y = spector
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLELogisticRegression().fit(X, y)


# ----------------------------------------------------------------- API
def test_predict_proba_only_for_probabilistic_losses():
    assert hasattr(MLELogisticRegression(), "predict_proba")
    assert not hasattr(MLELogisticRegression(loss="hinge"), "predict_proba")
    assert not hasattr(MLELogisticRegression(loss="hinge"), "predict_log_proba")
    X, y = load_iris(return_X_y=True)
    est = MLELogisticRegression(loss="probit", penalty="l2", alpha=0.01).fit(X, y)
    assert est.multi_class_ == "ovr"
    P = est.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.classes_[P.argmax(axis=1)], est.predict(X))
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), P)


def test_clear_errors_and_unchanged_on_failure(cancer):
    X, y = cancer
    est = MLELogisticRegression().fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="has no Hessian"):
        MLELogisticRegression(loss="hinge", solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="L1"):
        MLELogisticRegression(penalty="l1", alpha=0.1, solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="regression loss"):
        MLELogisticRegression(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="Unknown loss"):
        MLELogisticRegression(loss="nope").fit(X, y)
    est.set_params(loss="hinge", solver="newton")
    with pytest.raises(ValueError):
        est.fit(X, y)
    np.testing.assert_array_equal(est.coef_, coef)
    est.set_params(loss="log_loss", solver="auto")
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, y)
    np.testing.assert_array_equal(est.coef_, coef)
    with pytest.raises(ValueError, match="class"):
        MLELogisticRegression().fit(X, np.zeros_like(y))
    # errors found after input validation (which sets n_features_in_) restore it too
    state = dict(vars(est))
    with pytest.raises(ValueError, match="at least 2 classes"):
        est.fit(X[:, :3], np.zeros_like(y))
    with pytest.raises(ValueError, match="sample_weight"):
        est.fit(X[:, :3], y, sample_weight=-np.ones(len(y)))
    assert vars(est).keys() == state.keys()
    assert all(vars(est)[k] is v for k, v in state.items())
    with pytest.raises(ValueError, match="No covariance"):
        MLELogisticRegression(loss="hinge", cov_type=None).fit(X, y).summary()
    with pytest.raises(ValueError, match="nonrobust.*HC0"):
        MLELogisticRegression(loss="hinge", cov_type="nonrobust").fit(X, y)


def test_penalised_inference_warns(cancer):
    X, y = cancer
    est = MLELogisticRegression(penalty="l2", alpha=0.01).fit(X, y)
    with pytest.warns(UserWarning, match="ignore the penalty"):
        est.summary()
    with pytest.warns(UserWarning, match="ignore the penalty"):
        est.conf_int()


def test_max_iter_convergence_warning(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        est = MLELogisticRegression(penalty="l2", alpha=1e-3, max_iter=1, tol=1e-12).fit(X, y)
    assert not est.converged_


def test_warm_start(cancer):
    X, y = cancer
    est = MLELogisticRegression(penalty="l2", alpha=1e-2, warm_start=True).fit(X, y)
    n1 = est.n_iter_
    est.fit(X, y)
    assert est.n_iter_ < n1 and est.n_iter_ <= 1


def test_pipeline_gridsearch_pickle_pandas(spector):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X, y = spector
    pipe = make_pipeline(StandardScaler(), MLELogisticRegression(penalty="l2", alpha=0.01))
    grid = GridSearchCV(
        pipe,
        {"mlelogisticregression__loss": ["log_loss", "probit", "hinge", "focal"],
         "mlelogisticregression__loss__gamma": [1.0, 2.0]} if False else
        [{"mlelogisticregression__loss": ["log_loss", "probit", "hinge"]},
         {"mlelogisticregression__loss": ["focal"], "mlelogisticregression__loss__gamma": [1.0, 3.0]}],
        cv=3,
    ).fit(X, y)
    assert grid.best_estimator_ is not None
    est = MLELogisticRegression().fit(X, y)
    np.testing.assert_array_equal(est.feature_names_in_, ["GPA", "TUCE", "PSI"])
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.predict_proba(X), est.predict_proba(X))
    assert clone.summary().index.tolist() == ["intercept", "GPA", "TUCE", "PSI"]


def test_gridsearch_loss_object_param():
    from sklearn.model_selection import GridSearchCV

    from skloss.losses import get_loss

    X, y = load_iris(return_X_y=True)
    grid = GridSearchCV(MLELogisticRegression(loss=get_loss("focal"), penalty="l2", alpha=0.01),
                        {"loss__gamma": [0.5, 2.0]}, cv=3).fit(X, y)
    assert grid.best_params_["loss__gamma"] in (0.5, 2.0)


def test_perceptron_unpenalised_is_trivial_optimum(cancer):
    X, y = cancer
    with pytest.warns(TrivialOptimumWarning, match="w = 0"):
        est = MLELogisticRegression(loss="perceptron").fit(X, y)
    assert est.objective_ == pytest.approx(0.0, abs=1e-12)


def test_multinomial_separation_warns():
    X, y = load_iris(return_X_y=True)  # setosa is linearly separable
    with pytest.warns(SeparationWarning, match="alpha > 0"):
        est = MLELogisticRegression().fit(X, y)
    assert np.all(np.isfinite(est.coef_))


def test_gridsearch_nested_loss_param_on_string_loss():
    from sklearn.model_selection import GridSearchCV

    X, y = load_iris(return_X_y=True)
    est = MLELogisticRegression(penalty="l2", alpha=0.01)
    grid = GridSearchCV(est, {"loss": ["focal"], "loss__gamma": [0.5, 3.0]}, cv=3).fit(X, y)
    assert grid.best_estimator_.loss_.gamma == grid.best_params_["loss__gamma"]
    assert est.loss == "log_loss"  # the original is untouched
    with pytest.raises(ValueError, match="Invalid parameter for loss 'log_loss'"):
        MLELogisticRegression().set_params(loss__gamma=2.0)


@pytest.mark.parametrize("kwargs", [{}, {"solver": "lbfgs"}, {"penalty": "l1", "alpha": 0.1}])
def test_overflowing_features_get_a_clear_error(kwargs):
    # |x| ~ 1e200: the squares in the Hessian overflow float64
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    # overlapping classes: the previous fit to be kept is a real MLE (no separation)
    y = (X[:, 0] + rng.normal(size=40) > 0).astype(int)
    est = MLELogisticRegression().fit(X, y)
    coef = est.coef_.copy()
    est.set_params(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="overflows the float64 range.*StandardScaler"):
            est.fit(X * 1e200, y)
    np.testing.assert_array_equal(est.coef_, coef)


def test_hinge_sandwich_standard_errors_match_the_sampling_spread():
    # the hinge has no Hessian, only a kink: its sandwich takes the curvature from
    # a kernel estimate of the margins' density at the kink.  Against the spread of
    # the estimates over independent samples of one model (Monte Carlo):
    rng = np.random.RandomState(1)
    beta, b0, n = np.array([1.0, -0.5]), 0.3, 600
    params, ses = [], []
    for _ in range(150):
        X = rng.normal(size=(n, 2))
        y = (X @ beta + b0 + rng.logistic(size=n) > 0).astype(int)
        est = MLELogisticRegression(loss="hinge").fit(X, y)
        assert est.cov_type_ == "HC0"
        params.append(est.params_)
        ses.append(est.bse_)
    params, ses = np.array(params), np.array(ses)
    ratio = ses.mean(axis=0) / params.std(axis=0, ddof=1)
    assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio
    coverage = np.mean(np.abs(params - params.mean(axis=0)) < 1.96 * ses, axis=0)
    assert np.all(coverage > 0.88), coverage


def test_kinked_losses_inference_options():
    X, y = load_iris(return_X_y=True)
    yb = (y == 2).astype(int)
    # the perceptron's optimum is the trivial w = 0 (issue 10): announced, no
    # standard errors (NaN) instead of 0 / z 0 / p 1
    from skloss.linear_model import TrivialOptimumWarning

    with pytest.warns(TrivialOptimumWarning):
        est = MLELogisticRegression(loss="perceptron", penalty="l2", alpha=0.01).fit(X, yb)
    assert est.cov_type_ == "HC0" and np.all(np.isnan(est.bse_))
    assert MLELogisticRegression(loss="hinge", cov_type="HC1").fit(X, yb).cov_type_ == "HC1"
    # the multi-class form has several kinks per sample: no covariance
    assert MLELogisticRegression(loss="hinge").fit(X, y).covariance_ is None
    with pytest.raises(ValueError, match="two classes only"):
        MLELogisticRegression(loss="hinge", cov_type="HC0").fit(X, y)
