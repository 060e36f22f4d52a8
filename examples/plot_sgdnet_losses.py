"""
The loss as a network's output layer
====================================

The same small network (two hidden layers of 32 ReLU units, SGD with Nesterov
momentum) trained on the same three-class problem with six different output
losses.  Only ``loss=`` changes.

* **Top row: the training curves** (``loss_curve_``), each divided by its first
  value so that losses of different scales share an axis.  Cross-entropy and
  KL divergence differ by the entropy of the targets, a constant, so they have
  the same gradient and follow the same path (with label smoothing the KL
  network learns softer targets).  Focal loss down-weights the points already
  classified well and ends relatively lower.  The perceptron loss is zero on
  every correctly classified point, so its curve drops almost at once and its
  boundary stops moving as soon as points are on the right side, however
  narrowly: hence its ragged regions.
* **Bottom rows: the decision regions** and, for the probabilistic losses,
  the confidence of the predicted class (darker = more confident).  Hinge and
  perceptron give no probabilities: ``predict_proba`` is absent and only the
  regions are drawn.  Hinge (Crammer-Singer in its K-class form) asks for a
  margin, which gives boundaries close to cross-entropy's without
  probabilities.  The Brier loss (squared error on the probabilities) is
  bounded, so far-away points pull less on the boundary than with
  cross-entropy.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning

from skloss.losses import get_loss
from skloss.neural_network import SGDNetClassifier

X_moons, y_moons = make_moons(n_samples=400, noise=0.25, random_state=0)
X_blob, _ = make_blobs(n_samples=200, centers=[[0.5, 1.6]], cluster_std=0.3, random_state=1)
X = np.vstack([X_moons, X_blob])
y = np.concatenate([y_moons, np.full(200, 2)])

losses = {
    "log_loss": "log_loss",
    "kl_divergence (smoothing 0.1)": get_loss("kl_divergence", label_smoothing=0.1),
    "focal (gamma 2)": get_loss("focal", gamma=2.0),
    "brier": "brier",
    "hinge (Crammer-Singer)": "hinge",
    "perceptron": "perceptron",
}

fitted = {}
for title, loss in losses.items():
    net = SGDNetClassifier(
        loss=loss, hidden_layer_sizes=(32, 32), batch_size=32, max_iter=150,
        learning_rate_init=0.01, n_iter_no_change=150, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 150 epochs, no early stop
        fitted[title] = net.fit(X, y)
    print(f"{title:<30} epochs {net.n_iter_:>3}  training accuracy {net.score(X, y):.3f}")

xx, yy = np.meshgrid(np.linspace(-2, 3, 250), np.linspace(-1.5, 2.5, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
colors = np.array([[0.85, 0.30, 0.25], [0.25, 0.45, 0.85], [0.30, 0.70, 0.35]])

fig = plt.figure(figsize=(12, 11), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[1, 2.2])
ax = top.subplots()
for title, net in fitted.items():
    curve = np.asarray(net.loss_curve_)
    ax.plot(np.arange(1, curve.size + 1), curve / curve[0], label=title)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss / first-epoch loss")
ax.set_yscale("log")
ax.legend(ncols=2, fontsize=9)
ax.set_title("Training curves")

axes = bottom.subplots(2, 3, sharex=True, sharey=True)
for ax, (title, net) in zip(axes.ravel(), fitted.items()):
    labels = net.predict(grid)
    image = colors[labels]
    if hasattr(net, "predict_proba"):
        confidence = net.predict_proba(grid).max(axis=1)
        image = 1 - (1 - image) * ((confidence - 1 / 3) / (2 / 3))[:, None]
    else:
        image = 1 - (1 - image) * 0.45
    ax.imshow(image.reshape(*xx.shape, 3), origin="lower", extent=(-2, 3, -1.5, 2.5),
              aspect="auto")
    ax.scatter(X[:, 0], X[:, 1], c=colors[y], s=6, edgecolors="k", linewidths=0.2)
    proba = "with predict_proba" if hasattr(net, "predict_proba") else "no predict_proba"
    ax.set_title(f"{title}\n{proba}", fontsize=10)
bottom.suptitle("Decision regions (shade: confidence of the predicted class)")
plt.show()
