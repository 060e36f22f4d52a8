"""
A maximum-likelihood summary: Greene's Spector data
===================================================

Does a new teaching method (PSI) improve students' grades?  Greene's classic
example (shipped with statsmodels): 32 students, the outcome is whether the
grade improved, the covariates are the grade point average (GPA), the score on
an economics test (TUCE) and PSI.  :class:`skloss.MLELogisticRegression` with
the default log loss and no penalty is the logit model by maximum likelihood;
``loss="probit"`` gives the probit model.  ``summary()`` prints the coefficient
table (statsmodels' conventions: observed information, Wald z, normal p-values)
and the same numbers as ``statsmodels.api.Logit`` / ``Probit``.
"""

import pandas as pd
import statsmodels.api as sm

from skloss import MLELogisticRegression

data = sm.datasets.spector.load_pandas()
X, y = data.exog, data.endog

pd.set_option("display.width", 120)
for loss in ["log_loss", "probit"]:
    model = MLELogisticRegression(loss=loss).fit(X, y)
    print(f"\n{loss}: log-likelihood {model.loglik_:.4f}, AIC {model.aic_:.3f}, BIC {model.bic_:.3f}")
    print(model.summary().round(4))

# %%
# The same with statsmodels, for comparison:
print(sm.Logit(y, sm.add_constant(X)).fit(disp=0).summary2().tables[1].round(4))

# %%
# Robust (sandwich) standard errors:
print(MLELogisticRegression(cov_type="HC0").fit(X, y).summary().round(4))
