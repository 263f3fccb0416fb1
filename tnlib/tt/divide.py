"""The entrywise quotient of two trains: ``diag(y) z = x`` solved by AMEn.

The quotient has no exact train of bounded rank the way a product does; it is the
solution of a linear system whose operator is the diagonal of ``y`` (a TT-matrix of
``y``'s ranks), which AMEn solves in the train format with ranks adapted to the
residual. The error of the quotient is the residual's times at most
``max|y| / min|y|``, the operator's condition number.
"""

from __future__ import annotations

from typing import Any

from .._validation import check_eps, check_finite_cores, check_positive_int
from ..backends._host import host_eager
from ..errors import ArgumentError
from .algebra import check_compatible
from .amen import amen_solve
from .construct import diag
from .tensor import TTTensor

__all__ = ["divide"]


@host_eager
def divide(x: TTTensor, y: TTTensor, eps: float = 1e-10, x0: TTTensor | None = None,
           max_sweeps: int = 20, max_rank: int | None = None, return_info: bool = False
           ) -> Any:
    """Entrywise ``x / y`` as a train, to relative residual `eps` (AMEn on ``diag(y)``).

    Parameters
    ----------
    x, y : TTTensor
        Of one shape, backend and dtype; `y` without zero entries.
    eps : float, optional
        Relative residual ``‖y ⊙ z - x‖ / ‖x‖`` to reach. The quotient's own error is at
        most this times ``max|y| / min|y|``.
    x0 : TTTensor, optional
        A starting guess (default: a random train of rank 2).
    max_sweeps : int, optional
    max_rank : int, optional
        Bound on the quotient's ranks (the residual may then stay above `eps`).
    return_info : bool, optional
        Also return the solver's :class:`AmenInfo`.

    Returns
    -------
    TTTensor, or (TTTensor, AmenInfo)

    Raises
    ------
    ArgumentError, ShapeError
        If `x` and `y` are not trains of one shape and dtype, hold NaN or inf, or an
        option is out of range.

    Warns
    -----
    ConvergenceWarning
        If the residual is above `eps` after `max_sweeps` (as where `y` has a zero).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> t = np.linspace(0, 1, 2**16)
    >>> x = tt.quantize(np.sin(3 * t) + 2)                     # QTT of 16 binary modes
    >>> y = tt.quantize(1 + t**2)
    >>> z = tt.divide(x, y, eps=1e-10)
    >>> err = np.abs(tt.dequantize(z) - (np.sin(3 * t) + 2) / (1 + t**2)).max()
    >>> bool(err < 1e-9), max(z.ranks) <= 8
    (True, True)
    """
    where = "divide"
    for name, a in (("x", x), ("y", y)):
        if not isinstance(a, TTTensor):
            raise ArgumentError(f"{where}: {name} must be a TTTensor, got {type(a).__name__}")
    check_compatible(x, y, where)
    eps = check_eps(eps, where)
    # checked here, so that errors name divide's arguments, not amen_solve's (A, f)
    max_sweeps = check_positive_int(max_sweeps, where, "max_sweeps")
    if max_rank is not None:
        max_rank = check_positive_int(max_rank, where, "max_rank")
    if x0 is not None and not isinstance(x0, TTTensor):
        raise ArgumentError(f"{where}: x0 must be a TTTensor, got {type(x0).__name__}")
    for name, a in (("x", x), ("y", y)):
        check_finite_cores(a, where, name)
    return amen_solve(diag(y), x, x0=x0, eps=eps, max_sweeps=max_sweeps, max_rank=max_rank,
                      return_info=return_info)
