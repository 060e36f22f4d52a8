"""
One data set with outliers, five losses: robust regression by maximum likelihood
================================================================================

A straight line with Gaussian noise, and 10% of the points pushed far upwards
(gross outliers).  :class:`skloss.MLELinearRegression` fits it with

* ``squared_error`` -- the Gaussian likelihood: the mean, dragged by the outliers;
* ``absolute_error`` -- the Laplace likelihood: the median, barely moved;
* ``huber`` -- an M-estimator, quadratic inside ``delta``, linear outside;
* ``student_t`` -- the Student-t likelihood (3 degrees of freedom), fitted jointly
  with its scale: the outliers are explained by the heavy tails;
* ``quantile`` at 0.75 -- the asymmetric-Laplace likelihood: the conditional
  upper quartile (a different target, not a robust mean).

Each fit is the exact optimum of its objective; the table below the plot gives the
slope with its standard error under each model's own inference convention.
"""

import matplotlib.pyplot as plt
import numpy as np

from skloss import MLELinearRegression
from skloss.losses import get_loss

rng = np.random.default_rng(0)
n = 200
x = rng.uniform(0, 10, n)
y = 1.0 + 0.5 * x + rng.normal(scale=0.5, size=n)
outliers = rng.choice(n, size=n // 10, replace=False)
y[outliers] += rng.uniform(6, 12, outliers.size)
X = x[:, None]

models = {
    "squared_error (Normal)": MLELinearRegression(),
    "absolute_error (Laplace)": MLELinearRegression(loss="absolute_error"),
    "huber (delta=1)": MLELinearRegression(loss=get_loss("huber", delta=1.0)),
    "student_t, df=3": MLELinearRegression(loss=get_loss("student_t", df=3.0)),
    "quantile 0.75": MLELinearRegression(loss=get_loss("quantile", quantile=0.75)),
}
grid = np.linspace(0, 10, 50)[:, None]

fig, ax = plt.subplots(figsize=(8, 5))
inliers = np.setdiff1d(np.arange(n), outliers)
ax.scatter(x[inliers], y[inliers], s=12, color="0.6", label="data")
ax.scatter(x[outliers], y[outliers], s=16, color="tab:red", marker="x", label="outliers")
for (name, model), style in zip(models.items(), ["-", "--", "-.", ":", (0, (5, 1))]):
    model.fit(X, y)
    ax.plot(grid[:, 0], model.predict(grid), linestyle=style, linewidth=2, label=name)
ax.plot(grid[:, 0], 1.0 + 0.5 * grid[:, 0], color="k", linewidth=0.8, label="truth")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(loc="upper left", fontsize=8)
ax.set_title("Squared error follows the outliers; Laplace, Huber and Student-t do not")
fig.tight_layout()
plt.show()

# %%
# Slopes, standard errors and, where the loss is a likelihood, the fitted noise
# scale and the log-likelihood (the truth is slope 0.5).
for name, model in models.items():
    slope, se = model.params_[1], model.bse_[1]
    extra = "" if model.loglik_ is None else f"  scale {model.scale_:.3f}  loglik {model.loglik_:9.2f}  AIC {model.aic_:8.2f}"
    print(f"{name:<26} slope {slope:.4f} ({se:.4f}){extra}")

# %%
# The Student-t fit is a maximum-likelihood fit like any other: its summary.
print(models["student_t, df=3"].summary().round(4))
