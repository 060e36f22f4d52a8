"""The network section of ``python -m skloss`` (see :mod:`skloss._demo`)."""

import time
import warnings

import numpy as np

__all__ = ["network_section"]

_LOSSES = ("log_loss", "kl_divergence", "hinge", "focal", "brier", "perceptron")


def network_section():
    """SGDNetClassifier on the digits: the loss is the output layer."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, train_test_split

    from skloss.utils._display import heading as _heading
    from skloss.losses import get_loss
    from skloss.neural_network import SGDNetClassifier

    _heading("A network whose output layer is a loss: SGDNetClassifier on the digits")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype(np.float32), y, test_size=0.25, random_state=0, stratify=y
    )
    print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images of 8 x 8 pixels, "
          "10 classes; one hidden layer of 64 ReLU units, SGD with Nesterov momentum, "
          "batches of 32, float32 throughout.")

    print("\nPer-epoch progress of the softmax cross-entropy network (verbose=1):")
    net = SGDNetClassifier(hidden_layer_sizes=(64,), batch_size=32, max_iter=6, random_state=0,
                           verbose=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X_train, y_train)
    print(f"test accuracy after {net.n_iter_} epochs: {net.score(X_test, y_test):.4f}")

    print("\nA grid search over the output loss (3-fold CV on the training images, 25 epochs):")
    base = SGDNetClassifier(hidden_layer_sizes=(64,), batch_size=32, max_iter=25, random_state=0)
    grid = GridSearchCV(base, {"loss": list(_LOSSES)}, cv=3)
    from skloss._demo import COMPILE_CLOCK, timing_note, verdict

    start = time.perf_counter()
    c0 = COMPILE_CLOCK.seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    results = grid.cv_results_
    print(f"  {'loss':<15}{'form':<26}{'CV accuracy':>12}{'fit (s)':>9}  predict_proba")
    for i, params in enumerate(results["params"]):
        loss = get_loss(params["loss"])
        form = "K-class" if loss.has_multiclass_form else "one-vs-rest"
        link = loss.multiclass_link if loss.has_multiclass_form else loss.link
        print(f"  {loss.name:<15}{form + ' (' + str(link) + ')':<26}"
              f"{results['mean_test_score'][i]:>12.4f}{results['mean_fit_time'][i]:>9.2f}  "
              f"{'yes' if loss.is_probabilistic else 'no'}")
    best = grid.best_estimator_
    names = [repr(get_loss(p["loss"]).name) for p in results["params"]]
    print(verdict(names, results["mean_test_score"], results["std_test_score"],
                  what="CV accuracy"))
    print(f"refitted {grid.best_params_['loss']!r}: test accuracy {best.score(X_test, y_test):.4f} "
          f"({len(_LOSSES) * 3 + 1} fits in {timing_note(elapsed, c0)})")
    print("Each loss is the same object the linear models use.  Fits this small run their epochs "
          "in NumPy (nothing to compile); larger ones run whole epochs in compiled code "
          "(numba + BLAS).")
