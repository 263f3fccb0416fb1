"""Exponential machines: every feature interaction with a TT weight, a scikit-learn estimator."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import tt
from .._info import compiled
from .._validation import rng_of
from ..backends import get, get_backend
from ..errors import ArgumentError
from ..riemannian import TangentVector, frame_of, minimize, retract
from ..riemannian.project import point_as_tangent
from . import _expm_math as em

_TASKS = ("classification", "regression")


def _is_classifier(model: Any) -> bool:
    return model.task == "classification"
_SOLVERS = ("rcg", "rsgd", "adam")


class ExponentialMachine(BaseEstimator):
    """Exponential machine: ``f(x) = <W, (1, x_1) ⊗ ... ⊗ (1, x_d)>`` with a TT weight `W`.

    The model holds a weight for every subset of the features (all ``2^d``
    interactions: the bias, the linear terms, the pairs, ...), stored as a TT of
    shape ``(2,) * d`` and ranks `rank`, so a prediction costs ``O(d r^2)``.
    Training minimizes the mean logistic loss (classification, labels mapped to
    ±1) or half the mean squared error (regression), plus ``alpha/2 ‖W‖_F^2``,
    over the manifold of TTs of that rank:

    - ``solver="rcg"``: full-batch Riemannian conjugate gradients
      (:func:`tnlib.riemannian.minimize`) with the exact projected gradient,
      computed in ``O(N d r^2)`` from the point's orthogonal cores;
    - ``"rsgd"``: Riemannian SGD on mini-batches (step along the projected
      mini-batch gradient, then retraction);
    - ``"adam"``: Adam on the cores (the fallback of the paper).

    `W` starts from a linear model (least squares on the features, an exact TT
    of rank 2) plus a small random TT that fills the rank. Features should be
    scaled to about ``[-1, 1]`` (e.g. ``MinMaxScaler((-1, 1))``): products of
    many large features overflow.

    Parameters
    ----------
    rank : int
        TT-rank of `W`.
    task : {"classification", "regression"}
        Classification (more than two classes one-vs-rest: a weight per class, the
        class of the largest logit predicted) or regression.
    solver : {"rcg", "rsgd", "adam"}
    alpha : float
        L2 regularization of `W`.
    max_iter : int
        Iterations (rcg) or epochs (rsgd, adam).
    tol : float
        rcg: stop when the gradient norm falls below ``tol`` times its first value.
    batch_size : int
        Mini-batch size (rsgd, adam).
    learning_rate : float
        Step size (rsgd, adam).
    init_scale : float
        Size of the random part of the start, relative to the linear model.
    backend : str, optional
        tnlib backend for the computation ("numpy", "torch", ...; default: the
        current one).
    dtype : str
    random_state : int, optional
    verbose : bool

    Attributes
    ----------
    weight_ : TTTensor or list of TTTensor
        The trained weight; with more than two classes, one per class (in the order of
        `classes_`), each separating its class from the rest.
    classes_ : array
        Class labels (classification).
    n_features_in_ : int
    n_iter_ : int
        Iterations or epochs (the most of any class's fit).
    loss_curve_ : list of float
        Training objective per iteration / epoch (a list of them per class with more
        than two classes).

    References
    ----------
    A. Novikov, M. Trofimov, I. Oseledets, "Exponential machines", ICLR 2017
    workshop (arXiv:1605.03795).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.models import ExponentialMachine
    >>> rng = np.random.default_rng(0)
    >>> X = rng.choice([-1.0, 1.0], size=(400, 6))
    >>> y = X[:, 0] * X[:, 1] * X[:, 2] > 0           # a pure order-3 interaction
    >>> model = ExponentialMachine(rank=4, random_state=0).fit(X, y)
    >>> model.score(X, y) > 0.95
    True
    """

    def __init__(self, rank: int = 4, task: str = "classification", solver: str = "rcg",
                 alpha: float = 1e-4, max_iter: int = 200, tol: float = 1e-6,
                 batch_size: int = 256, learning_rate: float = 0.05, init_scale: float = 0.1,
                 backend: str | None = None, dtype: str = "float64",
                 random_state: Any = None, verbose: bool = False) -> None:
        self.rank = rank
        self.task = task
        self.solver = solver
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init_scale = init_scale
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if self.task == "regression":
            from sklearn.utils import RegressorTags

            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        else:
            from sklearn.utils import ClassifierTags

            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_class=True)
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ExponentialMachine:
        """Fit the TT weight to ``(X, y)``, row ``i`` weighted by ``sample_weight[i]``
        (default: all 1); returns self."""
        self._check_params()
        X, y = self._validate(X, y, y_numeric=self.task == "regression")
        v = self._sample_weights(sample_weight, X)
        targets = self._targets(y)
        xp = get_backend() if self.backend is None else get(self.backend)
        dtype = self._dtype(xp)
        xa, va = xp.asarray(X, dtype=dtype), xp.asarray(v, dtype=dtype)
        started = time.perf_counter()
        fit = {"rcg": self._fit_rcg, "rsgd": self._fit_rsgd, "adam": self._fit_adam}
        weights, iters, curves = [], [], []
        for t in targets:  # one target, or one per class (one-vs-rest)
            w0 = self._start(X, t, v, xp, dtype)
            weights.append(fit[self.solver](w0, xa, xp.asarray(t, dtype=dtype), va, xp))
            iters.append(self.n_iter_)
            curves.append(self.loss_curve_)
        self.weight_ = weights[0] if len(weights) == 1 else weights
        self.n_iter_ = max(iters)
        self.loss_curve_ = curves[0] if len(curves) == 1 else curves
        self.fit_time_ = time.perf_counter() - started
        return self

    def _targets(self, y: np.ndarray) -> list[np.ndarray]:
        """The numeric targets: ±1 labels (one array for two classes, one per class for
        more), or the regression values."""
        if self.task == "regression":
            try:
                return [np.asarray(y, dtype=np.float64)]
            except (TypeError, ValueError):
                raise ArgumentError(f"ExponentialMachine: regression needs numeric targets, "
                                    f"got y of dtype {y.dtype}") from None
        target = type_of_target(y, input_name="y", raise_unknown=True)
        self.classes_ = np.unique(y)
        k = len(self.classes_)
        if target not in ("binary", "multiclass"):
            raise ArgumentError(f"ExponentialMachine: y must hold class labels, one per row; "
                                f"got a {target} target")
        if k < 2:
            raise ArgumentError("ExponentialMachine: y has 1 class; classification needs two")
        labels = self.classes_[1:] if k == 2 else self.classes_
        return [np.where(y == c, 1.0, -1.0) for c in labels]

    @staticmethod
    def _sample_weights(sample_weight: Any, X: np.ndarray) -> np.ndarray:
        """The weights as a float array of mean 1 (the loss is their weighted mean); an
        ArgumentError for a negative, non-finite or all-zero one."""
        try:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"ExponentialMachine: sample_weight: {exc}") from exc
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ArgumentError("ExponentialMachine: sample_weight must be finite, >= 0 and "
                                "not all zero")
        return w * (len(w) / w.sum())

    def _check_params(self) -> None:
        if not isinstance(self.task, str) or self.task not in _TASKS:
            raise ArgumentError(f"ExponentialMachine: task must be one of {_TASKS}, "
                                f"got {self.task!r}")
        if not isinstance(self.solver, str) or self.solver not in _SOLVERS:
            raise ArgumentError(f"ExponentialMachine: solver must be one of {_SOLVERS}, "
                                f"got {self.solver!r}")
        for name in ("rank", "max_iter", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ArgumentError(f"ExponentialMachine: {name} must be an integer >= 1, "
                                    f"got {v!r}")
        for name in ("alpha", "tol", "learning_rate", "init_scale"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0:
                raise ArgumentError(f"ExponentialMachine: {name} must be a finite number "
                                    f">= 0, got {v!r}")
        try:
            rng_of(self.random_state, "ExponentialMachine")
        except ArgumentError:
            raise ArgumentError(f"ExponentialMachine: random_state must be None, a non-negative "
                                f"integer or a numpy.random.Generator, got "
                                f"{self.random_state!r}") from None

    def _dtype(self, xp: Any) -> Any:
        """The backend dtype to train in: float32 or float64."""
        try:
            dtype = xp.resolve_dtype(self.dtype)
        except (TypeError, KeyError, ValueError, AttributeError):
            dtype = None
        if dtype is None or xp.dtype_name(dtype) not in ("float32", "float64"):
            raise ArgumentError(f"ExponentialMachine: dtype must be 'float32' or 'float64', "
                                f"got {self.dtype!r}")
        return dtype

    def _start(self, X: np.ndarray, y: np.ndarray, v: np.ndarray, xp: Any, dtype: Any
               ) -> tt.TTTensor:
        """Weighted least-squares linear model as an exact rank-2 TT, plus a small random
        TT."""
        n, d = X.shape
        design = np.hstack([np.ones((n, 1)), X])
        ridge = 1e-6 * n * np.eye(d + 1)
        coef = np.linalg.solve(design.T @ (v[:, None] * design) + ridge, design.T @ (v * y))
        cores = _linear_cores(coef[0], coef[1:])
        rank = min(int(self.rank), 2 ** (d // 2)) if d > 1 else 1
        lin = tt.TTTensor([xp.asarray(c, dtype=dtype) for c in cores])
        if rank <= 2 or d == 1:
            return lin.round(max_rank=rank) if d > 1 else lin
        noise = tt.random((2,) * d, rank - 2, seed=self.random_state, dtype=dtype,
                          backend=xp)
        scale = self.init_scale * float(tt.norm(lin)) / max(float(tt.norm(noise)), 1e-300)
        return (lin + scale * noise).round(max_rank=rank)

    def _objective(self, xa: Any, ya: Any, va: Any, xp: Any) -> tuple:
        alpha = float(self.alpha)

        loss = compiled(xp, em.loss_arrays, task=self.task)

        def value(w: tt.TTTensor) -> Any:
            return loss(xa, ya, va, *w.cores) + 0.5 * alpha * tt.norm(w) ** 2

        def rgrad(w: tt.TTTensor) -> Any:
            return self._rgrad(frame_of(w, "ExponentialMachine"), xa, ya, va, xp)

        return value, rgrad

    def _rgrad(self, frame: Any, xa: Any, ya: Any, va: Any, xp: Any) -> TangentVector:
        d = frame.ndim
        fn = compiled(xp, em.rgrad_arrays, d=d, task=self.task)
        g = TangentVector(frame, fn(xa, ya, va, *frame.left, frame.last, *frame.right[1:]))
        return g + float(self.alpha) * point_as_tangent(frame) if self.alpha else g

    def _fit_rcg(self, w0: tt.TTTensor, xa: Any, ya: Any, va: Any, xp: Any) -> tt.TTTensor:
        value, rgrad = self._objective(xa, ya, va, xp)
        w, info = minimize(value, w0, method="rcg", grad=rgrad, max_iter=int(self.max_iter),
                           tol=float(self.tol), verbose=bool(self.verbose), return_info=True)
        self.n_iter_, self.loss_curve_ = info.iterations, list(info.losses)
        return w

    def _fit_rsgd(self, w: tt.TTTensor, xa: Any, ya: Any, va: Any, xp: Any) -> tt.TTTensor:
        value, _ = self._objective(xa, ya, va, xp)
        n, lr = xp.shape(xa)[0], float(self.learning_rate)
        rng = np.random.default_rng(self.random_state)
        self.loss_curve_ = []
        for epoch in range(int(self.max_iter)):
            for batch in _batches(rng, n, int(self.batch_size), xp):
                xb, yb, vb = (xp.take(a, batch, axis=0) for a in (xa, ya, va))
                g = self._rgrad(frame_of(w, "ExponentialMachine"), xb, yb, vb, xp)
                w = retract(w, g, -lr)
            self._record(float(value(w)), epoch)
        self.n_iter_ = int(self.max_iter)
        return w

    def _fit_adam(self, w: tt.TTTensor, xa: Any, ya: Any, va: Any, xp: Any) -> tt.TTTensor:
        value, _ = self._objective(xa, ya, va, xp)
        cores = list(w.cores)
        n, lr, alpha = xp.shape(xa)[0], float(self.learning_rate), float(self.alpha)
        m = [0.0 * c for c in cores]
        v = [0.0 * c for c in cores]
        b1, b2, step = 0.9, 0.999, 0
        core_grads = compiled(xp, em.core_grad_arrays, task=self.task)
        rng = np.random.default_rng(self.random_state)
        self.loss_curve_ = []
        for epoch in range(int(self.max_iter)):
            for batch in _batches(rng, n, int(self.batch_size), xp):
                xb, yb, vb = (xp.take(a, batch, axis=0) for a in (xa, ya, va))
                grads = core_grads(xb, yb, vb, *cores)
                if alpha:  # d/dG_k of alpha/2 ‖W‖^2, through the TT gradient of the norm
                    grads = [g + alpha * h for g, h in zip(grads, _norm_grads(cores, xp))]
                step += 1
                for k, g in enumerate(grads):
                    m[k] = b1 * m[k] + (1 - b1) * g
                    v[k] = b2 * v[k] + (1 - b2) * g * g
                    mh, vh = m[k] / (1 - b1 ** step), v[k] / (1 - b2 ** step)
                    cores[k] = cores[k] - lr * mh / (xp.sqrt(vh) + 1e-8)
            self._record(float(value(tt.TTTensor(cores))), epoch)
        self.n_iter_ = int(self.max_iter)
        return tt.TTTensor(cores)

    def _record(self, loss: float, epoch: int) -> None:
        if not math.isfinite(loss):
            raise ArgumentError(f"ExponentialMachine: the training loss became {loss} at epoch "
                                f"{epoch}; lower learning_rate or scale the features to [-1, 1]")
        self.loss_curve_.append(loss)
        if self.verbose:
            print(f"epoch {epoch:4d}  objective {loss:.6e}")

    def _validate(self, X: Any, *y: Any, **kwargs: Any) -> Any:
        """scikit-learn's checks as an ArgumentError (still a ValueError), and a bound on the
        feature products the model forms (one factor ``(1, x_k)`` per feature)."""
        try:
            out = validate_data(self, X, *y, dtype=np.float64, **kwargs)
        except ValueError as exc:
            if isinstance(exc, ArgumentError):
                raise
            raise ArgumentError(f"ExponentialMachine: {exc}") from exc
        x = out[0] if y else out
        if x.size:
            magnitude = np.log10(np.maximum(1.0, np.abs(x))).sum(axis=1)
            worst = int(np.argmax(magnitude))
            if magnitude[worst] > 100:
                raise ArgumentError(
                    f"ExponentialMachine: X[{worst}] has features whose product reaches "
                    f"1e{magnitude[worst]:.0f}; the model multiplies one factor (1, x_k) per "
                    "feature, so scale X first (e.g. sklearn's StandardScaler)")
        return out

    # -------------------------------------------------------------- predict
    @available_if(_is_classifier)
    def decision_function(self, X: Any) -> np.ndarray:
        """``f(x)`` for each row: the logit of the second class, or with more than two
        classes one logit per class, ``(n, n_classes)`` (classification only)."""
        return self._raw(X)

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "weight_")
        X = self._validate(X, reset=False)
        weights = self.weight_ if isinstance(self.weight_, list) else [self.weight_]
        xp = weights[0].backend
        xa = xp.asarray(X, dtype=weights[0].dtype)
        f = [xp.to_numpy(em.predict(list(w.cores), xa, xp)).astype(np.float64)
             for w in weights]
        return f[0] if len(f) == 1 else np.stack(f, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or values (regression)."""
        f = self._raw(X)
        if self.task == "regression":
            return f
        if f.ndim == 2:  # one-vs-rest: the class of the largest logit
            return self.classes_[np.argmax(f, axis=1)]
        return self.classes_[(f > 0).astype(int)]

    @available_if(_is_classifier)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities: ``(1 - p, p)`` with ``p = sigmoid(f)``; with more than two
        classes each class's ``sigmoid(f_c)``, normalized to sum 1 over the classes (as
        one-vs-rest classifiers do) (classification only)."""
        f = self._raw(X)
        p = 0.5 * (1.0 + np.tanh(0.5 * f))
        if f.ndim == 2:
            return p / np.sum(p, axis=1, keepdims=True)
        return np.stack([1.0 - p, p], axis=1)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression)."""
        if self.task == "regression":
            return float(r2_score(y, self.predict(X), sample_weight=sample_weight))
        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))


def _linear_cores(bias: float, w: np.ndarray) -> list[np.ndarray]:
    """Rank-2 TT cores of ``bias + Σ_k w_k x_k`` in the basis ``(1, x_k)``."""
    d = len(w)
    if d == 1:
        return [np.array([[[bias], [w[0]]]])]
    first = np.zeros((1, 2, 2))
    first[0, 0] = (1.0, bias)       # state (1, partial sum)
    first[0, 1] = (0.0, w[0])
    cores = [first]
    for k in range(1, d - 1):
        c = np.zeros((2, 2, 2))
        c[0, 0, 0] = c[1, 0, 1] = 1.0
        c[0, 1, 1] = w[k]
        cores.append(c)
    last = np.zeros((2, 2, 1))
    last[1, 0, 0] = 1.0
    last[0, 1, 0] = w[-1]
    cores.append(last)
    return cores


def _batches(rng: np.random.Generator, n: int, size: int, xp: Any) -> list:
    order = rng.permutation(n)
    return [xp.asarray(order[i : i + size]) for i in range(0, n, size)]


def _norm_grads(cores: list, xp: Any) -> list:
    """Gradients of ``‖W‖^2 / 2`` with respect to each core (environment contractions)."""
    d = len(cores)
    lefts = [xp.ones((1, 1), dtype=xp.dtype(cores[0]))]
    for c in cores[:-1]:
        lefts.append(xp.einsum("ab,anc,bnd->cd", lefts[-1], c, c))
    right = xp.ones((1, 1), dtype=xp.dtype(cores[0]))
    out = [None] * d
    for k in range(d - 1, -1, -1):
        out[k] = xp.einsum("ab,bnd,cd->anc", lefts[k], cores[k], right)
        right = xp.einsum("anc,bnd,cd->ab", cores[k], cores[k], right)
    return out

