"""tnlib: tensor networks (TT, QTT, CP, Tucker, H-Tucker, Riemannian) on NumPy, CuPy, PyTorch,
TensorFlow and JAX.

Importing tnlib imports NumPy and nothing heavier; a framework is imported the
first time its backend is used.
"""

from . import cp, ht, linalg, riemannian, tt, tucker
from .backends import (
    Backend,
    available_backends,
    backend_of,
    get_backend,
    set_backend,
    tensor,
    to_numpy,
    use_backend,
)
from .errors import (
    ArgumentError,
    BackendError,
    BackendMismatchError,
    ConvergenceWarning,
    EvaluationError,
    ExecutionError,
    FactorizationError,
    NonFiniteError,
    PrecisionWarning,
    ShapeError,
    TnlibError,
)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tnlib")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


__version__ = _package_version()

__all__ = [
    "ArgumentError",
    "Backend",
    "BackendError",
    "BackendMismatchError",
    "ConvergenceWarning",
    "PrecisionWarning",
    "EvaluationError",
    "ExecutionError",
    "FactorizationError",
    "NonFiniteError",
    "ShapeError",
    "TnlibError",
    "__version__",
    "cp",
    "ht",
    "linalg",
    "riemannian",
    "tt",
    "tucker",
    "available_backends",
    "backend_of",
    "get_backend",
    "set_backend",
    "tensor",
    "to_numpy",
    "use_backend",
]
