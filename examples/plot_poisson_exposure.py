"""
Counts with exposure: Poisson regression with an offset
=======================================================

Claims of insurance policies observed over different durations: a policy held
for two years has, all else equal, twice the expected number of claims of one
held for one year.  The Poisson model with log link writes the expected count as

.. math:: E[y_i] = t_i \\exp(x_i^\\top w + b) = \\exp(x_i^\\top w + b + \\log t_i),

so the log of the exposure :math:`t_i` enters as an *offset*: a term of the raw
prediction with coefficient fixed at 1.  :class:`skloss.MLELinearRegression`
takes it in ``fit`` and ``predict`` (and through scikit-learn's metadata routing
in pipelines and grid searches).  Ignoring the exposure biases the coefficients
of any feature correlated with it; here, younger drivers hold their policies for
shorter times.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skloss import MLELinearRegression

rng = np.random.default_rng(0)
n = 4000
age = rng.uniform(18, 80, n)
power = rng.normal(size=n)
exposure = np.clip(rng.gamma(2.0, 0.25 + (age - 18) / 60.0), 0.05, 5.0)  # years held
X = pd.DataFrame({"age_decades": (age - 50) / 10, "engine_power": power})
true_rate = np.exp(-2.0 - 0.25 * X["age_decades"] + 0.3 * X["engine_power"])
claims = rng.poisson(exposure * true_rate)

with_offset = MLELinearRegression(loss="poisson").fit(X, claims, offset=np.log(exposure))
without = MLELinearRegression(loss="poisson").fit(X, claims)

print("with the log-exposure offset (truth: intercept -2, age -0.25, power 0.3)")
print(with_offset.summary().round(4))
print("\nwithout it (the counts treated as if every policy ran one year)")
print(without.summary().round(4))

# %%
# The rate per year (``predict`` without an offset: exposure 1) against age, and
# the observed claims per policy-year by age band.
bands = pd.cut(age, np.arange(18, 81, 6))
observed = pd.Series(claims).groupby(bands, observed=True).sum() / pd.Series(exposure).groupby(bands, observed=True).sum()
grid = pd.DataFrame({"age_decades": (np.linspace(18, 80, 100) - 50) / 10, "engine_power": 0.0})

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot([b.mid for b in observed.index], observed.to_numpy(), "o", color="0.4", label="observed claims per year")
ax.plot(grid["age_decades"] * 10 + 50, with_offset.predict(grid), label="Poisson with offset log(exposure)")
ax.plot(grid["age_decades"] * 10 + 50, without.predict(grid), "--", label="Poisson without offset")
ax.set_xlabel("driver age")
ax.set_ylabel("claims per policy-year")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# The same model written as rates with weights: fitting ``claims / exposure``
# with ``sample_weight=exposure`` gives the same coefficients (the Poisson
# likelihood of a rate observed over time t).
rates = MLELinearRegression(loss="poisson").fit(X, claims / exposure, sample_weight=exposure)
print(np.c_[with_offset.coef_, rates.coef_])
