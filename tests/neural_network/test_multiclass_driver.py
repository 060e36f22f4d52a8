"""The dense K-class epoch driver is written out in one function (for its compile
time), the CSR one is built from the shared helpers: the same operations, so a
dense fit and a CSR fit of the same rows agree, whatever the depth, the sample
weights, the activation's derivative and a last minibatch shorter than the
others."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skloss.neural_network import SGDNetClassifier


@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_dense_multiclass_epoch_matches_the_csr_driver(hidden, weighted):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(70, 12)) * (rng.uniform(size=(70, 12)) < 0.5)
    y = rng.randint(4, size=70)
    sw = rng.uniform(0.5, 2.0, size=70) if weighted else None
    kw = dict(hidden_layer_sizes=hidden, activation="tanh", batch_size=16, max_iter=3,
              random_state=0)  # 70 = 4 x 16 + 6: a short last minibatch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = SGDNetClassifier(**kw).fit(X, y, sample_weight=sw)
        csr = SGDNetClassifier(**kw).fit(sp.csr_matrix(X), y, sample_weight=sw)
    assert len(dense.coefs_) == len(hidden) + 1
    for u, v in zip(dense.coefs_ + dense.intercepts_, csr.coefs_ + csr.intercepts_):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dense.loss_curve_, csr.loss_curve_, rtol=1e-10)
