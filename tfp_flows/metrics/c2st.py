"""Classifier two-sample test (C2ST) between two sets of samples.

As in the SBI benchmark (Lueckmann et al. 2021, Sec. 3 "Metrics"; Lopez-Paz &
Oquab 2017): both sets are z-scored by the mean and standard deviation of the
first, an MLP classifier (scikit-learn, two hidden layers of 10 x dim ReLU
units, Adam) is trained to tell them apart, and its accuracy is estimated by
stratified k-fold cross-validation. 0.5: indistinguishable; 1: separable.
"""
import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier


def c2st(x, y, folds=5, seed=0, max_iter=1000):
  """C2ST accuracy between samples x and y.

  Args:
    x: `[n, D]` samples (e.g. the reference posterior), z-scoring uses them.
    y: `[m, D]` samples (e.g. the flow's posterior).
    folds: k of the stratified k-fold cross-validation (>= 2).
    seed: seed of the folds and the classifier.
    max_iter: Adam epochs of the classifier.

  Returns:
    float: mean held-out accuracy in [0, 1].

  Raises:
    ValueError: for mismatched widths, non-finite values, or fewer than
      `folds` samples in a set.
  """
  x, y = np.asarray(x, float), np.asarray(y, float)
  if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
    raise ValueError(f"x: shape {x.shape}, y: shape {y.shape}; expected [n, D] and [m, D].")
  if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
    raise ValueError("x and y must be finite (got NaN or inf).")
  if int(folds) < 2 or min(len(x), len(y)) < folds:
    raise ValueError(f"folds = {folds}: expected >= 2 and at most the size of each set "
                     f"({len(x)}, {len(y)}).")
  mean, std = x.mean(0), x.std(0) + 1e-12
  data = np.concatenate([x, y]) - mean
  data /= std
  labels = np.concatenate([np.zeros(len(x)), np.ones(len(y))])
  width = 10 * x.shape[1]
  clf = MLPClassifier(hidden_layer_sizes=(width, width), activation="relu", solver="adam",
                      max_iter=int(max_iter), random_state=seed)
  cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed)
  return float(np.mean(cross_val_score(clf, data, labels, cv=cv, scoring="accuracy")))
