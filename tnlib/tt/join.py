"""Trains joined and extended along their modes: NumPy's concatenate, stack and pad.

Each is exact and formed from the cores alone, in ``O(d n r^2)``. A concatenation is the
sum of the trains, each placed at its offset along the joined mode (its core is zero
outside it): the cores are block-diagonal and the ranks add, as in ``x + y``. Stacking
is concatenation along a new mode, each train given it with size one. Padding by the
edge, a reflection or a wrap reads each mode at the indices NumPy's ``pad`` reads: a map
of each mode on its own, so the ranks stay. Padding by constants adds one train of rank
at most two: ``sum_k 1 ... 1 v_k b ... b``, with ``v_k`` the constants of mode ``k``
outside its box and ``b`` the box's indicator (NumPy pads the modes in order, so a
corner holds the last mode's constant).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import as_sequence, check_option, check_scalar_kind, plain
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ._scale import matched_all
from .algebra import scale
from .matrix import TTMatrix
from .tensor import TTTensor

__all__ = ["concatenate", "pad", "stack"]

#: NumPy's pad modes that are a map of each mode on its own (a train keeps its ranks)
_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


@host_eager
def concatenate(trains: Sequence[TTTensor], axis: int = 0) -> TTTensor:
    """The train of ``np.concatenate([x.full() for x in trains], axis)``, exactly.

    The cores are block-diagonal, each train's block zero outside its part of mode
    `axis`: ranks add (round the result to compress it).

    Parameters
    ----------
    trains : sequence of TTTensor
        Of one backend, dtype and number of modes, with equal sizes except along `axis`.
    axis : int, optional
        The mode joined (negative counts from the end).

    Returns
    -------
    TTTensor
        Of mode size the trains' sum along `axis`, ranks the sums of theirs.

    Raises
    ------
    ShapeError
        If the numbers of modes or the other sizes differ, or `axis` is out of range.
    ArgumentError
        If an entry is not a TTTensor (a TTMatrix included) or the dtypes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x, y = tt.random((3, 4), 2, seed=0), tt.random((3, 5), 2, seed=1)
    >>> z = tt.concatenate([x, y], axis=1)
    >>> z.shape, z.ranks
    ((3, 9), (1, 4, 1))
    >>> bool(np.allclose(z.full(), np.concatenate([x.full(), y.full()], axis=1)))
    True
    """
    where = "concatenate"
    trains = _trains(trains, where)
    d = trains[0].ndim
    axis = _axis(axis, d, where)
    for k, t in enumerate(trains[1:], 1):
        if t.ndim != d or any(m != n for j, (m, n) in enumerate(zip(t.shape, trains[0].shape))
                              if j != axis):
            raise ShapeError(f"{where}: trains[{k}] has shape {t.shape}, trains[0] "
                             f"{trains[0].shape}; they may differ along axis {axis} only")
    if len(trains) == 1:
        return trains[0]
    xp = trains[0].backend
    blocks = matched_all([list(t.cores) for t in trains], xp)
    starts = np.zeros((len(trains), d), dtype=int)
    sizes = [t.shape[axis] for t in trains]
    starts[1:, axis] = np.cumsum(sizes[:-1])
    shape = trains[0].shape[:axis] + (sum(sizes),) + trains[0].shape[axis + 1:]
    return TTTensor._from_cores(_block_diagonal(blocks, starts, shape, xp), xp)


@host_eager
def stack(trains: Sequence[TTTensor], axis: int = 0) -> TTTensor:
    """The train of ``np.stack([x.full() for x in trains], axis)``, exactly.

    Each train is given a mode of size one at `axis` (an identity core on the bond there)
    and the trains are concatenated along it: the new mode indexes the trains, ranks add.

    Parameters
    ----------
    trains : sequence of TTTensor
        Of one backend, dtype and shape.
    axis : int, optional
        The new mode's place, in ``[-d - 1, d]`` for trains of ``d`` modes.

    Returns
    -------
    TTTensor
        Of ``d + 1`` modes, the new one of size ``len(trains)``.

    Raises
    ------
    ShapeError
        If the shapes differ or `axis` is out of range.
    ArgumentError
        If an entry is not a TTTensor or the dtypes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> xs = [tt.random((3, 4), 2, seed=s) for s in range(5)]
    >>> z = tt.stack(xs, axis=1)
    >>> z.shape
    (3, 5, 4)
    >>> bool(np.allclose(z.full(), np.stack([x.full() for x in xs], axis=1)))
    True
    """
    where = "stack"
    trains = _trains(trains, where)
    shape = trains[0].shape
    for k, t in enumerate(trains[1:], 1):
        if t.shape != shape:
            raise ShapeError(f"{where}: trains[{k}] has shape {t.shape}, trains[0] {shape}; "
                             "stacked trains have one shape")
    axis = _axis(axis, len(shape) + 1, where)
    return concatenate([_with_unit_mode(t, axis) for t in trains], axis)


@host_eager
def pad(x: TTTensor, pad_width: Any, mode: str = "constant", constant_values: Any = 0
        ) -> TTTensor:
    """The train of ``np.pad(x.full(), pad_width, mode, ...)``, exactly.

    Parameters
    ----------
    x : TTTensor
    pad_width : int or sequence
        As NumPy's: ``((before_1, after_1), ..., (before_d, after_d))``, one
        ``(before, after)`` pair for every mode, or one int for all; non-negative ints.
    mode : {'constant', 'edge', 'reflect', 'symmetric', 'wrap'}, optional
        As NumPy's. All but 'constant' read each mode at other indices: the ranks stay.
    constant_values : scalar or sequence, optional
        For 'constant': one value (a number or a 0-d array of `x`'s backend, which
        gradients reach), or NumPy's ``(before, after)`` pairs per mode, numbers. Nonzero
        values add a train of rank at most 2.

    Returns
    -------
    TTTensor
        Of mode sizes ``before_k + n_k + after_k``.

    Raises
    ------
    ArgumentError
        For another of NumPy's modes (their statistics or ramps are not maps of each mode
        alone), a width that is not a non-negative int, a constant that is not finite or
        not representable in `x`'s dtype (a complex one for a real train included), or an
        `x` that is not a TTTensor.
    ShapeError
        If `pad_width` or `constant_values` does not broadcast to one pair per mode.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((3, 4, 5), 2, seed=0)
    >>> y = tt.pad(x, ((1, 0), (2, 2), (0, 3)), constant_values=7.0)
    >>> y.shape, y.ranks
    ((4, 8, 8), (1, 4, 4, 1))
    >>> ref = np.pad(x.full(), ((1, 0), (2, 2), (0, 3)), constant_values=7.0)
    >>> bool(np.allclose(y.full(), ref))
    True
    >>> tt.pad(x, 2, mode="wrap").ranks                      # a map of each mode: same ranks
    (1, 2, 2, 1)
    """
    where = "pad"
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor, got {type(x).__name__}")
    mode = check_option(mode, ("constant", *_INDEX_MODES), where, "mode")
    widths = _pairs(pad_width, x.ndim, where, "pad_width", integral=True)
    xp = x.backend
    cores = list(x.cores)
    if mode != "constant":
        out = [c if not (b or a) else xp.take(c, _on_device(
            np.pad(np.arange(n), (b, a), mode=mode), c, xp, index=True), axis=1)
            for c, n, (b, a) in zip(cores, x.shape, widths)]
        return TTTensor._from_cores(out, xp)
    outside = _constants(x, widths, constant_values, where)
    trains = [cores] if outside is None else matched_all([cores, list(outside.cores)], xp)
    # x's cores from each mode's `before` in zeros of the padded size, plus the constants'
    starts = np.stack([widths[:, 0], np.zeros(x.ndim, dtype=int)])[:len(trains)]
    shape = tuple(int(v) for v in widths.sum(axis=1) + np.asarray(x.shape))
    return TTTensor._from_cores(_block_diagonal(trains, starts, shape, xp), xp)


# ---------------------------------------------------------------------------- helpers


def _trains(trains: Any, where: str) -> list[TTTensor]:
    trains = list(as_sequence(trains, where, "trains", "TTTensor"))
    if not trains:
        raise ShapeError(f"{where}: trains is empty; it needs at least one TTTensor")
    for k, t in enumerate(trains):
        if not isinstance(t, TTTensor):
            hint = " (TTMatrix operators are not joined)" if isinstance(t, TTMatrix) else ""
            raise ArgumentError(f"{where}: trains[{k}] must be a TTTensor, got "
                                f"{type(t).__name__}{hint}")
    xp = backend_of(*[t.cores[0] for t in trains])
    dtypes = {xp.dtype_name(t.cores[0]) for t in trains}
    if len(dtypes) > 1:
        raise ArgumentError(f"{where}: the trains' dtypes differ, {sorted(dtypes)}; convert "
                            "with .to(dtype=...) first")
    return trains


def _axis(axis: Any, d: int, where: str) -> int:
    axis = plain(axis)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -d <= axis < d:
        raise ShapeError(f"{where}: axis must be an int in [{-d}, {d - 1}], got {axis!r}")
    return int(axis) % d


def _pairs(value: Any, d: int, where: str, name: str, integral: bool) -> np.ndarray:
    """NumPy's ``(before, after)`` per mode from an int, a pair or ``d`` pairs."""
    try:
        arr = np.asarray(plain(value))
    except (TypeError, ValueError):
        arr = np.asarray(None)
    kind = "iu" if integral else "iufc"
    if arr.dtype.kind not in kind or arr.ndim > 2:
        what = "non-negative ints" if integral else "numbers"
        raise ArgumentError(f"{where}: {name} must be {what}, an int, a (before, after) "
                            f"pair or one pair per mode, got {value!r}")
    try:
        pairs = np.broadcast_to(arr, (d, 2))
    except ValueError:
        raise ShapeError(f"{where}: {name} of shape {arr.shape} gives no (before, after) "
                         f"pair for each of {d} modes") from None
    if integral and (pairs < 0).any():
        raise ArgumentError(f"{where}: {name} must be non-negative, got {value!r}")
    return pairs.astype(int) if integral else pairs


def _constants(x: TTTensor, widths: np.ndarray, values: Any, where: str) -> Any:
    """The train that holds the constants outside the box (None where they are all 0)."""
    xp, c0 = x.backend, x.cores[0]
    one = None
    if isinstance(values, numbers.Number) or (xp.is_array(values) and xp.ndim(values) == 0):
        if isinstance(values, numbers.Number):
            _check_constant(np.asarray(values), x, where)
            if values == 0:
                return None
        else:
            backend_of(c0, values)
            check_scalar_kind(values, xp, c0, where, "TTTensor")
        one, values = values, np.ones((x.ndim, 2))
    else:
        values = _pairs(values, x.ndim, where, "constant_values", integral=False)
        _check_constant(values, x, where)
        if not values.any():
            return None
    if not widths.any():
        return None
    ones, boxes, outer = [], [], []
    for n, (b, a), (vb, va) in zip(x.shape, widths, values):
        box = np.concatenate([np.zeros(b), np.ones(n), np.zeros(a)])
        ones.append(np.ones(b + n + a))
        boxes.append(box)
        outer.append(np.concatenate([np.full(b, vb), np.zeros(n), np.full(a, va)]))
    d = x.ndim
    # state 0: every mode so far outside-or-inside (ones); state 1: past the mode whose
    # constant this entry holds, every later mode inside its box
    if d == 1:
        cores = [outer[0][None, :, None]]
    else:
        cores = [np.stack([ones[0], outer[0]], axis=-1)[None]]
        for k in range(1, d - 1):
            core = np.zeros((2, len(ones[k]), 2))
            core[0, :, 0], core[0, :, 1], core[1, :, 1] = ones[k], outer[k], boxes[k]
            cores.append(core)
        cores.append(np.stack([outer[-1], boxes[-1]])[:, :, None])
    train = TTTensor._from_cores([_on_device(c, c0, xp) for c in cores], xp)
    return train if one is None else scale(train, one)


def _check_constant(values: np.ndarray, x: TTTensor, where: str) -> None:
    xp, c0 = x.backend, x.cores[0]
    if not np.isfinite(values).all() or np.abs(values).max(initial=0) > xp.finfo_max(c0):
        raise ArgumentError(f"{where}: constant_values must be finite and within the range "
                            f"of {xp.dtype_name(c0)}, got {values.tolist()!r}")
    if np.iscomplexobj(values) and np.any(values.imag) and not xp.is_complex(c0):
        raise ArgumentError(f"{where}: complex constant_values for a real train; convert x "
                            "with .to(dtype='complex128') first")


def _on_device(host: np.ndarray, like: Any, xp: Any, index: bool = False) -> Any:
    if index:
        return xp.asarray(host, device=xp.device(like))
    if not xp.is_complex(like):
        host = host.real
    return xp.asarray(host, dtype=xp.dtype(like), device=xp.device(like))


def _block_diagonal(trains: list, mode_starts: np.ndarray, shape: tuple, xp: Any) -> list:
    """Cores of the sum of trains (lists of cores) each zero outside its part of the
    modes: train ``i``'s core ``k`` sits from index ``mode_starts[i, k]`` of mode ``k``, of
    size ``shape[k]``. The first cores side by side, the last ones stacked, the
    others block-diagonal (of one mode, the cores add). Each core is written into one
    array of zeros, block by block (in place where the backend's arrays are mutable)."""
    d = len(trains[0])
    out = []
    for k in range(d):
        blocks = [cores[k] for cores in trains]
        shapes = [xp.shape(b) for b in blocks]
        if len(blocks) == 1 and shapes[0][1] == shape[k]:
            out.append(blocks[0])  # a mode not padded
            continue
        # rows and columns: the blocks follow each other along the bonds, not at the
        # train's ends (of size one)
        rows = sum(s[0] for s in shapes) if k > 0 else 1
        cols = sum(s[2] for s in shapes) if k < d - 1 else 1
        core = xp.zeros((rows, shape[k], cols), dtype=xp.dtype(blocks[0]),
                        device=xp.device(blocks[0]))
        row = col = 0
        for b, (r, n, c), start in zip(blocks, shapes, (int(m[k]) for m in mode_starts)):
            index = (slice(row, row + r), slice(start, start + n), slice(col, col + c))
            core = (xp.index_update(core, index, b, reuse=True) if d > 1
                    else core + xp.index_update(xp.zeros_like(core), index, b, reuse=True))
            row, col = row + r * (k > 0), col + c * (k < d - 1)
        out.append(core)
    return out


def _with_unit_mode(x: TTTensor, axis: int) -> TTTensor:
    """`x` with a mode of size one at `axis`: an identity core on the bond there."""
    xp, c0 = x.backend, x.cores[0]
    r = x.ranks[axis]
    eye = xp.reshape(xp.eye(r, dtype=xp.dtype(c0), device=xp.device(c0)), (r, 1, r))
    cores = list(x.cores)
    cores.insert(axis, eye)
    return TTTensor._from_cores(cores, xp)
