"""docs/contributing.rst stays true: its steps build a working loss, the files it
names exist, and no estimator dispatches on a loss's name.

The throw-away loss below follows "Adding a loss" step by step (a kernel module
with a point function and a driver of the kernel signature, a Loss subclass
with declared capabilities, registration, check_loss), except that its kernel
module is a temporary file instead of ``skloss/_kernels/_regression.py``.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skloss import MLELinearRegression
from skloss.losses import Loss, get_loss, register_loss
from skloss.losses import _registry
from skloss.utils import check_loss

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "contributing.rst"

KERNEL_SOURCE = '''
import numpy as np
from numba import njit


@njit(forceinline=True, error_model="numpy", fastmath=False)
def _cauchy(y, r, c):
    # c = (delta,): delta^2 / 2 log(1 + (d / delta)^2), d = r - y
    delta = c[0]
    d = r - y
    t = d / delta
    s = 1.0 + t * t
    return 0.5 * delta * delta * np.log1p(t * t), d / s, (1.0 - t * t) / (s * s)


@njit(error_model="numpy")
def cauchy(y, raw, sw, params, out_loss, out_grad, out_hess):
    c = (params[0],)
    weighted = sw.shape[0] > 0
    for i in range(raw.shape[0]):
        lo, g, h = _cauchy(np.float64(y[i]), np.float64(raw[i]), c)
        w = np.float64(sw[i]) if weighted else 1.0
        if out_loss.shape[0] > 0:
            out_loss[i] = w * lo
        if out_grad.shape[0] > 0:
            out_grad[i] = w * g
        if out_hess.shape[0] > 0:
            out_hess[i] = w * h
'''


@pytest.fixture
def kernel_module(tmp_path, monkeypatch):
    # step 1: the kernel (a temporary module standing in for skloss/_kernels/_regression.py)
    path = tmp_path / "_throwaway.py"
    path.write_text(KERNEL_SOURCE)
    spec = importlib.util.spec_from_file_location("skloss._kernels._throwaway", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "skloss._kernels._throwaway", module)
    return module


def test_a_throwaway_loss_through_the_documented_steps(kernel_module, monkeypatch):
    # step 2: the loss class, with its parameters, kernel name and capabilities
    class CauchyLoss(Loss):
        r"""Cauchy loss :math:`\delta^2 / 2 \log(1 + ((r - y) / \delta)^2)`."""

        name = "throwaway_cauchy"
        task = "regression"
        _kernel_module = "_throwaway"
        _kernel_name = "cauchy"
        may_lack_minimiser = False
        hessian_is_constant = False

        def __init__(self, delta=1.0):
            self.delta = delta

        def _validate_params(self):
            self._check_real(type(self).__name__, "delta", self.delta, low=0, low_open=True)

        def _kernel_params(self):
            return np.array([float(self.delta)])

    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    monkeypatch.setattr(_registry, "_ALIASES", dict(_registry._ALIASES))
    register_loss(CauchyLoss, aliases=("throwaway_lorentzian",))
    loss = get_loss("throwaway_lorentzian", delta=2.0)
    assert type(loss) is CauchyLoss and loss.delta == 2.0

    # step 3: the test -- values against the closed form, then check_loss
    y, raw = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 3.0])
    np.testing.assert_allclose(loss.loss(y, raw), 2.0 * np.log1p(((raw - y) / 2.0) ** 2), rtol=1e-14)
    report = check_loss(loss, skip=("pickle",))  # (a class defined in a test does not pickle)
    assert report["gradient"] == report["hessian"] == report["capabilities"] == "passed"

    # and it fits: a robust line through data with gross outliers
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    yy = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=300)
    yy[:15] += 50.0
    est = MLELinearRegression(loss, cov_type=None).fit(X, yy)
    np.testing.assert_allclose(est.coef_, [1.0, -2.0], atol=0.05)


def test_the_files_the_guide_names_exist():
    text = DOC.read_text()
    named = set(re.findall(r"``((?:skloss|tests|benchmarks|docs)/[\w/.*]+?\.(?:py|rst|md))``", text))
    assert len(named) >= 10
    missing = [p for p in named if "*" not in p and not (ROOT / p).exists()]
    assert not missing, missing


def test_the_guide_is_in_the_toctree():
    assert "contributing" in (ROOT / "docs" / "index.rst").read_text()


def test_no_estimator_dispatches_on_a_loss_name():
    out = subprocess.run(
        ["grep", "-rnE", r"__name__ ==|\.name (==|in|not in)|_kernel_name (==|in|!=)",
         "skloss/linear_model", "skloss/neural_network"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.stdout == "", out.stdout
