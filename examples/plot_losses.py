"""
Every loss and its gradient
===========================

Each built-in loss of :mod:`skloss.losses`, plotted against the raw prediction
(the link-scale output of a model) for one fixed target, next to its gradient
with respect to the raw prediction.  The list comes from the registry, so a new
loss appears here by itself.

* Regression losses with the identity link, for ``y = 1``: the minimum is at
  ``raw = 1``.  Squared error grows quadratically, absolute error linearly; the
  robust losses (Huber, pseudo-Huber, log-cosh, Student-t) are quadratic near the
  minimum and flatter far from it, and their gradient is bounded.
* Regression losses with a log or log1p link, also for ``y = 1``: the raw
  prediction is the logarithm of the predicted mean, so the minimum is at
  ``raw = log(1) = 0`` (``log1p``: ``log(2)``).
* Classification losses in their binary form for the positive class ``y = 1``:
  the raw prediction is the score (``raw > 0`` predicts class 1).  Margin losses
  (hinge, squared hinge, perceptron) are exactly zero beyond their margin; log
  loss, exponential and focal loss keep pushing, more or less strongly.
"""

import matplotlib.pyplot as plt
import numpy as np

from skloss.losses import available_losses, get_loss

raw = np.linspace(-3.0, 4.0, 701)


def curves(name, y):
    loss = get_loss(name)
    target = np.full(raw.shape[0], y)
    value, gradient = loss.loss_gradient(target, raw)
    return value, gradient


regression = available_losses("regression")
identity = [n for n in regression if str(get_loss(n).link) == "identity"]
other_links = [n for n in regression if n not in identity]
panels = [
    ("Regression, identity link (y = 1)", identity, 1.0),
    ("Regression, log / log1p links (y = 1)", other_links, 1.0),
    ("Classification, binary form (y = 1)", available_losses("classification"), 1.0),
]
panels = [p for p in panels if p[1]]

fig, axes = plt.subplots(len(panels), 2, figsize=(12, 4.2 * len(panels)), squeeze=False)
for (title, names, y), (ax_loss, ax_grad) in zip(panels, axes):
    cmap = plt.get_cmap("tab20")
    for i, name in enumerate(names):
        value, gradient = curves(name, y)
        # line styles cycle so that curves that coincide (log loss and KL
        # divergence on one-hot targets) both stay visible
        style = {"color": cmap(i % 20), "lw": 2.2 - 0.1 * (i % 5), "ls": ("-", "--", "-.", ":")[i % 4]}
        ax_loss.plot(raw, value, label=name, **style)
        ax_grad.plot(raw, gradient, label=name, **style)
    ax_loss.set(title=f"{title}: loss", xlabel="raw prediction", ylabel="loss", ylim=(-0.2, 5.0))
    ax_grad.set(title=f"{title}: gradient", xlabel="raw prediction",
                ylabel="d loss / d raw", ylim=(-4.0, 4.0))
    for ax in (ax_loss, ax_grad):
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
    ax_loss.legend(fontsize=8, ncol=2, loc="upper center")
fig.tight_layout()
plt.show()

# %%
# The values at a few raw predictions, as a table.  Each number is the loss a
# scikit-learn user knows from the metric of the same name (squared error as
# ``mean_squared_error``, log loss as ``log_loss`` in nats, hinge as
# ``hinge_loss``).
points = np.array([-2.0, 0.0, 1.0, 3.0])
print(f"{'loss':<30}" + "".join(f"raw={p:>5.1f}  " for p in points))
for _, names, y in panels:
    for name in names:
        value = get_loss(name).loss(np.full(points.shape[0], y), points)
        print(f"{name:<30}" + "".join(f"{v:>11.4f} " for v in value))
