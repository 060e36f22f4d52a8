"""The compound Poisson-gamma series walk (skloss._kernels._tweedie): the ratio
recurrence, its exp fallback and the cumulants behind the dispersion MLE's
Halley steps, against brute-force sums with SciPy's gammaln / logsumexp."""

import numpy as np
import pytest
from scipy import optimize, special

from skloss._kernels._tweedie import _base, _log_series_rows, tweedie_cp_log_series, tweedie_cp_mle_log_phi
from skloss.losses._likelihood import Tweedie


def _terms(y, phi, p, terms=3000):
    g = (2.0 - p) / (p - 1.0)
    log_z = g * np.log(y) - (1.0 + g) * np.log(phi) - np.log(2.0 - p) - g * np.log(p - 1.0)
    j = np.arange(1, terms + 1, dtype=np.float64)
    return j, j[None, :] * log_z[:, None] - special.gammaln(j + 1.0)[None, :] - special.gammaln(j * g)[None, :]


@pytest.mark.parametrize("p", [1.05, 1.5, 1.95])
def test_rows_in_and_out_of_the_ratio_range(p):
    # y spread over 1e-300 .. 1e3: tiny y give log z below -644 (p = 1.05, 1.5), outside the range of
    # the ratio recurrence, so one call mixes both walks
    rng = np.random.default_rng(2)
    y = np.concatenate([rng.gamma(2.0, 1.0, 50), [1e-300, 1e-250, 1e-200, 1e-120, 1e-30, 1e-6, 1e3]])
    phi = 0.7
    _, t = _terms(y, phi, p)
    np.testing.assert_allclose(tweedie_cp_log_series(y, phi, p), special.logsumexp(t, axis=1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [1.2, 1.6])
def test_weighted_cumulants(p):
    rng = np.random.default_rng(4)
    y = rng.gamma(1.5, 2.0, 40)
    sw = rng.uniform(0.5, 2.0, 40)
    phi = 1.3
    j, t = _terms(y, phi, p)
    lw = special.logsumexp(t, axis=1)
    q = np.exp(t - lw[:, None])  # normalised terms per row
    mean = q @ j
    var = q @ j**2 - mean**2
    k3 = np.einsum("ij,ij->i", q, (j[None, :] - mean[:, None]) ** 3)
    g, base = _base(y, p)
    sums = np.empty(4)
    _log_series_rows(base, (1.0 + g) * np.log(phi), g, sw, np.empty(0), sums)
    np.testing.assert_allclose(sums, [sw @ lw, sw @ mean, sw @ var, sw @ k3], rtol=1e-10)


@pytest.mark.parametrize("p", [1.3, 1.8])
def test_mle_log_phi_against_bounded_search(p):
    rng = np.random.default_rng(7)
    n = 2000
    r = rng.normal(0.0, 0.5, n)
    lik = Tweedie(power=p)
    y = lik.sample(r, 2.0, random_state=1)
    sw = rng.uniform(0.5, 2.0, n)
    # a start far from the maximum (the Pearson start of mle_scale is close to it)
    L = tweedie_cp_mle_log_phi(y, r, sw, p, -3.0, -8.0, 8.0)
    res = optimize.minimize_scalar(lambda v: -lik.loglik(y, r, np.exp(v), sw), bounds=(-4, 4),
                                   method="bounded", options={"xatol": 1e-12})
    assert abs(L - res.x) < 1e-7
    assert lik.loglik(y, r, np.exp(L), sw) >= -res.fun - 1e-12 * abs(res.fun)
