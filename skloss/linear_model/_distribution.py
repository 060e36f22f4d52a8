"""MLEDistribution: density estimation by maximum likelihood (an intercept-only fit)."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skloss._dask import any_dask
from skloss.losses import Loss, get_loss
from skloss.utils._inputs import check_weight_values
from skloss.utils._loss_params import LossParamsMixin
from skloss.utils._state import keeps_state_on_error

from ._inference import label_intervals, rename_columns, summary_table
from ._linear_inference import RegressionInferenceMixin, regression_covariance
from ._scale import student_t_fit

__all__ = ["MLEDistribution"]


class MLEDistribution(LossParamsMixin, BaseEstimator):
    r"""A noise distribution fitted by maximum likelihood: the intercept-only model.

    A regression loss with a likelihood is the negative log-likelihood of a
    location family (plus a scale): fitting the constant that minimises the
    mean loss, then the scale at that constant, *is* maximum-likelihood
    estimation of the distribution.  ``MLEDistribution(loss=...)`` does that,
    gives the fitted density (``score_samples``), draws from it (``sample``),
    and scores held-out data by the mean log-likelihood, so

    ``GridSearchCV(MLEDistribution(), {"loss": ["squared_error", "absolute_error", "student_t"]})``

    chooses the noise family by held-out likelihood.

    ====================  =======================  ==================================
    loss                  distribution             fitted parameters
    ====================  =======================  ==================================
    ``squared_error``     Normal                   location = mean, scale = sigma
    ``absolute_error``    Laplace                  location = median, scale = b
    ``quantile``          asymmetric Laplace       location = the ``quantile``, scale
    ``student_t``         Student-t (df fixed)     location, scale jointly (EM)
    ``poisson``           Poisson                  location = mean (no scale)
    ``gamma``             Gamma                    location = mean, scale = dispersion
    ``tweedie``           Tweedie (power fixed)    location = mean, scale = dispersion
    ====================  =======================  ==================================

    Parameters
    ----------
    loss : str or Loss, default="squared_error"
        A regression loss whose ``likelihood`` is not None.

    Attributes
    ----------
    loss_ : Loss
    location_ : ndarray of shape (n_features,)
        The fitted location on the data scale (``inverse_link`` of the raw
        constant): mean, median or quantile.
    raw_location_ : ndarray of shape (n_features,)
        The same on the loss's raw (link) scale.
    scale_ : ndarray of shape (n_features,) or None
        The maximum-likelihood scale (None for a family without one).
    shape_params_ : dict
        Shape parameters: the loss's fixed ones (``df``, ``quantile``,
        ``power``) and, for the gamma family, the fitted ``shape = 1 /
        dispersion``.
    loglik_ : float
        The log-likelihood of the training data (summed over columns).
    aic_, bic_ : float
        With ``k`` = (1 location + 1 scale where estimated) per column and
        ``n = sum(sample_weight)``.
    params_ : ndarray of shape (n_features,)
        The fitted locations on the raw scale (``raw_location_``): the
        parameters that :meth:`summary` and :meth:`conf_int` report, with
        ``param_names_``.
    covariance_, bse_ : ndarray or None
        Their covariance (diagonal: the columns are independent) and standard
        errors, by the conventions of :class:`~skloss.MLELinearRegression` for
        an intercept-only model (GLM families: Pearson dispersion; quantile
        losses: the kernel sandwich; Student-t: the joint information), chosen
        from the loss's declared capabilities.  None where no convention
        applies.
    cov_type_ : str or None
    use_t_ : bool
        Whether :meth:`conf_int` and :meth:`summary` use Student's t with
        ``df_resid_`` degrees of freedom.
    df_resid_ : float
    n_features_in_ : int

    Notes
    -----
    ``X`` holds one variable per column; several columns are modelled as
    independent variables with a distribution each (the log-density is the sum).
    Densities of continuous families and probability masses of the Poisson
    family are not comparable, so a grid search mixing them compares apples with
    oranges; compare families of one kind.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss import MLEDistribution
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_t(3, size=(2000, 1))
    >>> d = MLEDistribution(loss="student_t").fit(x)
    >>> round(float(d.scale_[0]), 1)
    1.0
    """

    _parameter_constraints: dict = {"loss": [str, Loss]}

    def __init__(self, loss="squared_error"):
        self.loss = loss

    def _resolve(self):
        loss = get_loss(self.loss)
        if loss.task != "regression":
            raise ValueError(f"MLEDistribution needs a regression loss; {loss.name!r} is a {loss.task} loss.")
        loss._validate_params()
        try:
            lik = loss.likelihood
        except Exception:
            lik = None
        if lik is None:
            raise ValueError(
                f"MLEDistribution needs a loss with a likelihood; loss {loss.name!r} has none "
                "(choose e.g. squared_error, absolute_error, quantile, student_t, poisson, gamma, tweedie)."
            )
        return loss, lik

    @keeps_state_on_error
    def fit(self, X, y=None, sample_weight=None):
        """Fit the distribution of each column of ``X`` by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data (usually one column).
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights.

        Returns
        -------
        self
        """
        if any_dask(X, sample_weight):  # (dask arrays: chunk-wise passes on the cluster)
            from skloss._dask._linear import fit_distribution

            return fit_distribution(self, X, sample_weight)
        self._validate_params()
        loss, lik = self._resolve()
        X = validate_data(self, X, dtype=np.float64, reset=True)
        n, p = X.shape
        if n < 2:
            raise ValueError(f"MLEDistribution needs at least 2 samples; got n_samples = {n}.")
        if self.__sklearn_tags__().input_tags.positive_only and np.any(X < 0):
            raise ValueError(f"Negative values in data passed to MLEDistribution(loss={loss.name!r}).")
        sw = None if sample_weight is None else check_weight_values(
            _check_sample_weight(sample_weight, X, ensure_non_negative=True))
        has_scale = bool(getattr(lik, "has_scale", False))
        raw, scale = np.empty(p), np.empty(p)
        loglik = 0.0
        for j in range(p):
            x = np.asarray(loss.validate_y(X[:, j]), dtype=np.float64)
            active = x if sw is None else x[sw > 0]
            if has_scale and active.size and np.all(active == active[0]):
                raise ValueError(
                    f"Column {j} is constant (every value is {float(active[0])!r}): the maximum-likelihood "
                    f"scale of the {loss.name!r} family is 0 and the distribution is degenerate."
                )
            if lik.joint_scale:
                _, r0, s, _, _, _ = student_t_fit(np.empty((n, 0)), x, float(lik.df), sample_weight=sw)
            else:
                r0 = float(loss.init_raw_prediction(x, sw))
                s = lik.mle_scale(x, np.full(n, r0), sw) if has_scale else None
            if has_scale and not (s is not None and s > 0 and np.isfinite(s)):
                raise ValueError(
                    f"Column {j} has a maximum-likelihood scale of {s!r} (a constant column, or an "
                    "exact fit): the distribution is degenerate."
                )
            raw[j] = r0
            scale[j] = s if has_scale else np.nan
            with np.errstate(all="ignore"):
                loglik += lik.loglik(x, np.full(n, r0), s if has_scale else None, sw)
        n_obs = float(n if sw is None else np.sum(sw))
        k = p * (1 + int(has_scale))
        self.loss_ = loss
        self.raw_location_ = raw
        self.location_ = np.asarray(loss.inverse_link(raw), dtype=np.float64)
        self.scale_ = scale if has_scale else None
        # the likelihood's own (fixed) shape parameters: df, quantile, power ...
        shape = {name: float(value) for name, value in lik.get_params().items()
                 if isinstance(value, (int, float, np.number)) and not isinstance(value, bool)}
        if lik.variance_power == 2.0 and has_scale:
            shape["shape"] = 1.0 / scale  # gamma: shape = 1 / dispersion
        self.shape_params_ = shape
        self.solver_ = "joint-scale" if lik.joint_scale else "closed-form"
        self.converged_ = True
        self.n_obs_ = n_obs
        self.loglik_ = float(loglik)
        self.aic_ = -2.0 * self.loglik_ + 2.0 * k
        self.bic_ = -2.0 * self.loglik_ + np.log(n_obs) * k
        self._set_inference(loss, X, sw, n_obs)
        return self

    def _set_inference(self, loss, X, sw, n_obs):
        """The covariance of each column's raw location: the regression inference
        of an intercept-only model (one convention per declared capability)."""
        n, p = X.shape
        kind = RegressionInferenceMixin._cov_kind(None, loss)
        ct = {"glm": "nonrobust", "joint-scale": "nonrobust"}.get(kind, "HC0")
        names = getattr(self, "feature_names_in_", [f"x{j}" for j in range(p)])
        var = np.full(p, np.nan)
        use_t = False
        for j in range(p if kind is not None else 0):
            s = None if self.scale_ is None else float(self.scale_[j])
            try:
                with np.errstate(all="ignore"):
                    cov, info = regression_covariance(kind, ct, np.empty((n, 0)), X[:, j],
                                                      np.full(n, self.raw_location_[j]), sw, loss=loss,
                                                      fit_intercept=True, scale=s)
            except (ValueError, np.linalg.LinAlgError):
                continue
            var[j] = cov[0, 0]
            use_t = bool(info.get("use_t"))
        self.params_ = np.asarray(self.raw_location_, dtype=np.float64)
        self.param_names_ = [f"{name}: location" for name in names]
        ok = kind is not None and bool(np.all(np.isfinite(var)))
        self.covariance_ = np.diag(var) if ok else None
        self.bse_ = np.sqrt(var) if ok else None
        self.cov_type_ = ct if ok else None
        self.use_t_ = use_t
        self.df_resid_ = n_obs - 1.0

    def _reference(self):
        from scipy import stats

        return stats.t(self.df_resid_) if self.use_t_ and self.df_resid_ > 0 else stats.norm()

    def _check_inference(self):
        check_is_fitted(self)
        if self.covariance_ is None:
            raise ValueError(
                f"No covariance was computed for this fit: loss {self.loss_.name!r} declares no "
                "covariance convention (no GLM variance power, pieces or Hessian)."
            )

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals of ``params_`` (Student's t with
        ``df_resid_`` degrees of freedom when ``use_t_``, else normal).

        Returns
        -------
        ndarray of shape (n_features, 2)
        """
        self._check_inference()
        if not (0.0 < float(alpha) < 1.0):
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        q = self._reference().ppf(1.0 - alpha / 2.0)
        return label_intervals(
            self, np.column_stack([self.params_ - q * self.bse_, self.params_ + q * self.bse_]), alpha)

    def summary(self, alpha=0.05):
        """The table of the fitted locations: coef, std err, z (or t), p-value and
        the ``1 - alpha`` confidence interval (as every MLE estimator's)."""
        self._check_inference()
        info = {"model": "MLEDistribution", "loss": repr(self.loss_), "n_obs": self.df_resid_ + 1.0,
                "cov_type": self.cov_type_, "loglik": self.loglik_, "aic": self.aic_, "bic": self.bic_,
                "converged": self.converged_}
        table = summary_table(self.param_names_, self.params_, self.covariance_, alpha, info=info)
        if not self.use_t_ or not hasattr(table, "columns"):
            return table
        t = self.params_ / self.bse_
        ci = np.asarray(self.conf_int(alpha))
        cols = list(table.columns)
        table[cols[2]] = t
        table[cols[3]] = 2.0 * self._reference().sf(np.abs(t))
        table[cols[4]] = ci[:, 0]
        table[cols[5]] = ci[:, 1]
        return rename_columns(table, {cols[2]: "t", cols[3]: "P>|t|"})

    def score_samples(self, X):
        """Log-density (log-mass for Poisson) of each row under the fitted model;
        ``-inf`` for a value outside the distribution's support (a negative value
        for the gamma family, a non-integer count for Poisson ...).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if any_dask(X):
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "score_samples", X)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        lik = self.loss_.likelihood
        out = np.zeros(X.shape[0])
        for j in range(X.shape[1]):
            s = None if self.scale_ is None else self.scale_[j]
            out += lik.logpdf_or_minus_inf(X[:, j], np.full(X.shape[0], self.raw_location_[j]), s)
        return out

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood of ``X`` (weighted with ``sample_weight``):
        higher is better, so grid searches maximise held-out likelihood."""
        values = self.score_samples(X)
        if sample_weight is not None:
            sample_weight = check_weight_values(_check_sample_weight(
                sample_weight, values, ensure_non_negative=True))
            if not np.sum(sample_weight) > 0:
                raise ValueError("sample_weight must have a positive sum.")
        return float(np.average(values, weights=sample_weight))

    def sample(self, n_samples=1, random_state=None):
        """Draw ``n_samples`` rows from the fitted distribution.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        rng = check_random_state(random_state)
        lik = self.loss_.likelihood
        cols = []
        for j in range(self.n_features_in_):
            s = None if self.scale_ is None else self.scale_[j]
            cols.append(lik.sample(np.full(int(n_samples), self.raw_location_[j]), s, rng))
        return np.column_stack(cols)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        try:
            domain = get_loss(self.loss).y_domain
        except (TypeError, ValueError):
            return tags
        tags.input_tags.positive_only = bool(np.isfinite(domain.low))  # a bounded domain: positive data
        return tags
