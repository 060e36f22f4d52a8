"""The compound Poisson-gamma series kernel (skloss._kernels._tweedie) against a
brute-force sum with SciPy's gammaln / logsumexp and the dispersion MLE against
SciPy's bounded scalar search on the same log-likelihood."""

import numpy as np
import pytest
from scipy import optimize, special

from skloss._kernels._tweedie import tweedie_cp_log_series
from skloss.losses._likelihood import Tweedie


def _brute_log_series(y, phi, p, terms=4000):
    g = (2.0 - p) / (p - 1.0)
    log_z = g * np.log(y) - (1.0 + g) * np.log(phi) - np.log(2.0 - p) - g * np.log(p - 1.0)
    j = np.arange(1, terms + 1, dtype=np.float64)
    t = j[None, :] * log_z[:, None] - special.gammaln(j + 1.0)[None, :] - special.gammaln(j * g)[None, :]
    return special.logsumexp(t, axis=1)


@pytest.mark.parametrize("p", [1.1, 1.5, 1.9])
@pytest.mark.parametrize("phi", [0.05, 1.0, 20.0])
def test_series_matches_brute_force(p, phi):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.gamma(2.0, 1.0, 200), [1e-8, 1e-3, 50.0, 300.0]])
    np.testing.assert_allclose(tweedie_cp_log_series(y, phi, p), _brute_log_series(y, phi, p),
                               rtol=1e-11, atol=1e-11)


def test_series_refuses_a_window_too_wide():
    with pytest.raises(ValueError, match="20001 terms"):
        tweedie_cp_log_series(np.array([1e6]), 1e-9, 1.5)


@pytest.mark.parametrize("p", [1.3, 1.5, 1.7])
@pytest.mark.parametrize("weighted", [False, True])
def test_mle_dispersion_matches_scalar_search(p, weighted):
    rng = np.random.default_rng(1)
    n = 3000
    r = rng.normal(0.0, 0.5, n)
    y = rng.gamma(2.0, np.exp(r) / 2.0) * (rng.random(n) < 0.8)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    lik = Tweedie(power=p)
    phi = lik.mle_scale(y, r, sw)
    res = optimize.minimize_scalar(lambda L: -lik.loglik(y, r, np.exp(L), sw), bounds=(-5, 5),
                                   method="bounded", options={"xatol": 1e-12})
    assert abs(np.log(phi) - res.x) < 1e-6
    assert lik.loglik(y, r, phi, sw) >= -res.fun - 1e-9 * abs(res.fun)
