"""Stochastic optimizers: their state, hyper-parameters and learning-rate schedules.

The update itself runs inside the epoch (compiled, :mod:`skloss._kernels._net`, or
in NumPy for small fits, :mod:`._numpy_epoch`);
these small objects hold what persists between epochs and between
``partial_fit`` calls: the state vectors (momentum velocity; Adam's first and
second moments), Adam's step counter and the current learning rate.  They hold
NumPy arrays and numbers only, so a fitted estimator pickles.

SGD (``optimizer="sgd"``), with ``v`` the velocity, ``g`` the minibatch
gradient of the objective and ``mu`` the momentum::

    v <- mu v - lr g
    w <- w + v                      (classical momentum)
    w <- w + mu v - lr g            (Nesterov, Sutskever et al. 2013)

Adam (``optimizer="adam"``, Kingma & Ba 2015) with ``beta_1 = 0.9``,
``beta_2 = 0.999``, ``epsilon = 1e-8`` (scikit-learn's and PyTorch's defaults)::

    m <- beta_1 m + (1 - beta_1) g;  s <- beta_2 s + (1 - beta_2) g^2
    w <- w - lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(s) + epsilon)

Learning-rate schedules (``optimizer="sgd"`` only, as in scikit-learn's
``MLPClassifier``): ``"constant"``; ``"invscaling"``, after each epoch
``lr = learning_rate_init / (t + 1) ** power_t`` with ``t`` the number of
training samples seen; ``"adaptive"``, ``lr`` is divided by 5 each time the
stopping criterion (``n_iter_no_change`` epochs without an improvement of ``tol``)
is met, and training stops once ``lr`` falls below ``1e-6``.

Step scale (SGD only): the step actually taken is ``lr / step_scale``, with
``step_scale`` the mean second derivative of the loss in the network's output at
the start (at least 1; see ``_base._curvature``), so that the default rate suits
a Poisson loss on large counts as it suits squared error on a standardised
target.  Adam is invariant to the gradient's scale and ignores it.  When the
growth safeguard rejects an epoch, :meth:`SGDOptimizer.reset_after_growth`
divides the rate by 10 and clears the moments.
"""

import math

import numpy as np

from . import _numpy_epoch as _net  # (the hyper layout of skloss._kernels._net, without numba)

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8


class SGDOptimizer:
    """Minibatch SGD with (Nesterov) momentum and a learning-rate schedule."""

    code = 0

    def __init__(self, n_params, dtype, learning_rate_init, learning_rate, momentum,
                 nesterov, power_t, step_scale=1.0):
        self.step_scale = float(step_scale)
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.schedule = learning_rate
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        self.s1 = np.zeros(n_params, dtype)
        self.s2 = np.zeros(0, dtype)
        self.counters = np.zeros(1, np.int64)

    def astype(self, dtype):
        self.s1 = np.ascontiguousarray(self.s1, dtype=dtype)
        self.s2 = np.ascontiguousarray(self.s2, dtype=dtype)
        return self

    def hyper(self, alpha, grad_scale, dtype):
        h = np.zeros(_net.N_HYPER, dtype=dtype)
        h[_net.LR] = self.learning_rate / getattr(self, "step_scale", 1.0)
        h[_net.MOMENTUM] = self.momentum
        h[_net.NESTEROV] = 1.0 if self.nesterov else 0.0
        h[_net.ALPHA] = alpha
        h[_net.GRAD_SCALE] = grad_scale
        return h

    def iteration_ends(self, time_step):
        """Called after each epoch with the number of samples seen so far."""
        if self.schedule == "invscaling":
            # in logarithms: (t + 1) ** power_t overflows for a large power_t
            self.learning_rate = self.learning_rate_init * math.exp(
                -self.power_t * math.log1p(time_step))

    def trigger_stopping(self, msg, verbose):
        """The stopping criterion is met: stop (True) or lower the rate (False)."""
        if self.schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False

    def reset_after_growth(self):
        """The growth safeguard rejected an epoch: a ten times smaller rate, and
        the moments cleared (they point where the loss grew)."""
        self.learning_rate /= 10.0
        self.learning_rate_init /= 10.0
        self.s1[...] = 0
        self.s2[...] = 0
        self.counters[...] = 0

    def snapshot(self):
        return (self.s1.copy(), self.s2.copy(), self.counters.copy(), self.learning_rate)

    def restore(self, snap):
        s1, s2, counters, lr = snap
        self.s1[...] = s1
        self.s2[...] = s2
        self.counters[...] = counters
        self.learning_rate = lr


class AdamOptimizer(SGDOptimizer):
    """Adam with scikit-learn's default moments; ``learning_rate`` schedules do
    not apply (as in scikit-learn)."""

    code = 1

    def __init__(self, n_params, dtype, learning_rate_init, **ignored):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.schedule = "constant"
        self.s1 = np.zeros(n_params, dtype)
        self.s2 = np.zeros(n_params, dtype)
        self.counters = np.zeros(1, np.int64)

    def hyper(self, alpha, grad_scale, dtype):
        h = np.zeros(_net.N_HYPER, dtype=dtype)
        h[_net.LR] = self.learning_rate
        h[_net.ALPHA] = alpha
        h[_net.BETA1] = BETA_1
        h[_net.BETA2] = BETA_2
        h[_net.OMB1] = 1.0 - BETA_1
        h[_net.OMB2] = 1.0 - BETA_2
        h[_net.EPSILON] = EPSILON
        h[_net.GRAD_SCALE] = grad_scale
        return h

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


def make_optimizer(name, n_params, dtype, *, learning_rate_init, learning_rate, momentum,
                   nesterov, power_t, step_scale=1.0):
    if name == "adam":
        return AdamOptimizer(n_params, dtype, learning_rate_init)
    return SGDOptimizer(n_params, dtype, learning_rate_init, learning_rate, momentum,
                        nesterov, power_t, step_scale)
