"""Exceptions and warnings raised by tnlib.

Every error tnlib raises on bad input is a :class:`TnlibError`; the message names
the argument, the value that was given and what was expected.
"""

from __future__ import annotations

__all__ = [
    "TnlibError",
    "BackendError",
    "BackendMismatchError",
    "ShapeError",
    "ArgumentError",
    "EvaluationError",
    "ExecutionError",
    "NonFiniteError",
    "FactorizationError",
    "ConvergenceWarning",
]


class TnlibError(Exception):
    """Base class of every error raised by tnlib."""


class BackendError(TnlibError):
    """An unknown backend name, or a backend whose framework is not usable here."""


class BackendMismatchError(TnlibError, TypeError):
    """Arrays of two different backends were passed to one function."""


class ShapeError(TnlibError, ValueError):
    """Shapes, ranks or indices that don't fit together."""


class ArgumentError(TnlibError, ValueError):
    """An argument with a value outside its domain (negative ``eps``, ``max_rank < 1``, ...)."""


class NonFiniteError(ArgumentError):
    """NaN or inf from finite input: an operator's products (a Krylov method's ``matvec``)
    or a result beyond the float range (``exp(t A) v`` overflowing)."""


class FactorizationError(TnlibError, RuntimeError):
    """A dense factorization of finite input that the backend's LAPACK could not complete:
    an SVD that did not converge by divide and conquer, on the adjoint either, nor by the
    one-sided method where there is one (rare, but well-scaled matrices meet it)."""


class EvaluationError(TnlibError, ValueError):
    """A user-supplied function returned values of the wrong shape, NaN or inf."""


class ExecutionError(TnlibError, RuntimeError):
    """A Dask cluster could not run a computation: its workers kept dying, or none were left."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before reaching its tolerance."""


class PrecisionWarning(UserWarning):
    """A tolerance below what the data's dtype can resolve; the resolvable one is used."""
