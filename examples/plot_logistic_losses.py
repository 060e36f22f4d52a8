"""
One data set, six losses: decision boundaries of MLELogisticRegression
======================================================================

The same two-feature, three-class data fitted by :class:`skloss.MLELogisticRegression`
with six classification losses.  Each is the *exact* minimiser of its objective
(mean loss + a small L2 penalty): the log loss and the focal loss fit the
multinomial (softmax) model, the hinge loss the Crammer-Singer multi-class SVM
(solved as a quadratic programme), probit, modified Huber and squared hinge are
one-vs-rest.  The boundaries differ where the classes overlap: margin losses
(hinge, squared hinge) ignore points far on the right side; the log loss and
probit weigh every point; the focal loss down-weights the easy ones.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from skloss import MLELogisticRegression

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X[:, [0, 1]])  # sepal length and width: overlapping classes

losses = ["log_loss", "probit", "hinge", "squared_hinge", "modified_huber", "focal"]
xx, yy = np.meshgrid(np.linspace(-2.5, 3.0, 300), np.linspace(-2.5, 3.2, 300))
grid = np.column_stack([xx.ravel(), yy.ravel()])

fig, axes = plt.subplots(2, 3, figsize=(12, 7.5), sharex=True, sharey=True)
for ax, loss in zip(axes.ravel(), losses):
    clf = MLELogisticRegression(loss=loss, penalty="l2", alpha=1e-3).fit(X, y)
    zz = clf.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, zz, alpha=0.25, levels=[-0.5, 0.5, 1.5, 2.5], colors=["C0", "C1", "C2"])
    for k in range(3):
        ax.scatter(*X[y == k].T, s=14, color=f"C{k}", edgecolor="k", linewidth=0.3)
    ax.set_title(f"{loss} ({clf.multi_class_}): accuracy {clf.score(X, y):.2f}")
for ax in axes[-1]:
    ax.set_xlabel("sepal length (standardised)")
for ax in axes[:, 0]:
    ax.set_ylabel("sepal width (standardised)")
fig.tight_layout()
plt.show()
