"""tt.concatenate, tt.stack and tt.pad: NumPy's, on the dense tensor, exactly; ranks add
for joins, stay for index pads, grow by at most 2 for constants."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt
from tnlib.errors import ArgumentError, ShapeError

DTYPES = ["float64", "complex128", "float32"]


def _tol(dtype):
    return 1e-5 if dtype == "float32" else 1e-13


@pytest.mark.parametrize("dtype", DTYPES)
def test_concatenate_along_every_axis(backend, dtype):
    for axis in (0, 1, 2, -1):
        shapes = [[3, 4, 5] for _ in range(3)]
        for k, n in enumerate((2, 6, 1)):
            shapes[k][axis] = n
        xs = [tt.random(tuple(s), r, seed=k, dtype=dtype, backend=backend)
              for k, (s, r) in enumerate(zip(shapes, (2, (3, 1), 4)))]
        z = tt.concatenate(xs, axis=axis)
        ref = np.concatenate([np_of(x) for x in xs], axis=axis)
        assert z.shape == ref.shape
        assert rel_error(z, ref) < _tol(dtype), axis
        assert z.ranks == (1, 9, 7, 1)
        assert_like(z.cores[0], xs[0].cores[0])


def test_concatenate_one_mode_and_one_train(backend):
    xs = [tt.random((n,), 1, seed=n, backend=backend) for n in (3, 1, 4)]
    z = tt.concatenate(xs)
    assert z.ranks == (1, 1)
    assert rel_error(z, np.concatenate([np_of(x) for x in xs])) < 1e-14
    one = tt.concatenate((xs[0],), axis=-1)
    assert one.ranks == xs[0].ranks and rel_error(one, np_of(xs[0])) == 0.0


def test_concatenate_of_trains_at_parted_scales(backend):
    """x holds its scale on the last core, y on the first: the blocks' running products
    part by 2^1000 on the way. Spread first, the sum rounds and norms to 1e-12."""
    x = tt.random((4, 5, 6), 3, seed=0, backend=backend)
    y = tt.random((4, 2, 6), 3, seed=1, backend=backend)
    xs = tt.TTTensor([x.cores[0] * 1e-150, x.cores[1], x.cores[2] * 1e150])
    ys = tt.TTTensor([y.cores[0] * 1e150, y.cores[1], y.cores[2] * 1e-150])
    ref = np.concatenate([np_of(x), np_of(y)], axis=1)
    z = tt.concatenate([xs, ys], axis=1)
    assert rel_error(tt.round(z, 1e-13), ref) < 1e-12
    assert abs(float(np_of(tt.norm(z))) - np.linalg.norm(ref)) < 1e-12 * np.linalg.norm(ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_stack_at_every_place(backend, dtype):
    xs = [tt.random((3, 4), r, seed=s, dtype=dtype, backend=backend)
          for s, r in enumerate((1, 2, 3, 2))]
    dense = [np_of(x) for x in xs]
    for axis in (0, 1, 2, -1, -3):
        z = tt.stack(xs, axis=axis)
        ref = np.stack(dense, axis=axis)
        assert z.shape == ref.shape
        assert rel_error(z, ref) < _tol(dtype), axis
        assert_like(z.cores[0], xs[0].cores[0])
    assert tt.stack(xs, axis=1).ranks == (1, 8, 8, 1)
    one = tt.stack([xs[0]], axis=0)
    assert one.shape == (1, 3, 4) and rel_error(one, dense[0][None]) < _tol(dtype)


WIDTHS = [2, (3, 1), ((1, 0), (5, 7), (0, 3)), [[0, 0], [1, 1], [9, 2]], ((2, 4),)]


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
def test_pad_by_index_keeps_the_ranks(backend, mode):
    x = tt.random((3, 4, 5), (2, 3), seed=0, dtype="complex128", backend=backend)
    dense = np_of(x)
    for width in WIDTHS:
        y = tt.pad(x, width, mode=mode)
        assert y.ranks == x.ranks
        assert rel_error(y, np.pad(dense, width, mode=mode)) < 1e-14, width
        assert_like(y.cores[0], x.cores[0])
    one = tt.random((1, 3), 1, seed=1, backend=backend)   # a mode of one is its own mirror
    assert rel_error(tt.pad(one, 2, mode=mode), np.pad(np_of(one), 2, mode=mode)) < 1e-14


@pytest.mark.parametrize("dtype", DTYPES)
def test_pad_by_constants(backend, dtype):
    x = tt.random((3, 4, 5), 2, seed=0, dtype=dtype, backend=backend)
    dense = np_of(x)
    width = ((1, 2), (0, 3), (2, 0))
    for values, rank in ((0, 2), (0.0, 2), (3.5, 4), ((1, 2), 4),
                         (((1, 2), (3, 4), (5, 6)), 4), (((0, 0), (0, 0), (0, 0)), 2),
                         (((0, 0), (0, 1), (0, 0)), 4)):
        y = tt.pad(x, width, constant_values=values)
        ref = np.pad(dense, width, constant_values=values)
        assert rel_error(y, ref) < _tol(dtype), values
        assert max(y.ranks) == rank, values
        assert_like(y.cores[0], x.cores[0])
    c = backend.asarray(np.asarray(-2.0, dtype=np_of(x.cores[0]).real.dtype))
    assert rel_error(tt.pad(x, 1, constant_values=c), np.pad(dense, 1, constant_values=-2.0)
                     ) < _tol(dtype)
    assert tt.pad(x, 0, constant_values=5.0).ranks == x.ranks


def test_pad_by_a_constant_in_one_and_many_modes(backend):
    v = tt.random((5,), 1, seed=0, backend=backend)
    assert rel_error(tt.pad(v, 3), np.pad(np_of(v), 3)) < 1e-14
    assert rel_error(tt.pad(v, (2, 1), constant_values=(4, -1)),
                     np.pad(np_of(v), (2, 1), constant_values=(4, -1))) < 1e-14
    q = tt.random((2,) * 12, 3, seed=1, backend=backend)
    y = tt.pad(q, (0, 1), constant_values=1.0)        # 3^12 entries, 2^12 of them from q
    assert max(y.ranks) == 5
    assert abs(float(np_of(tt.sum(y))) - float(np_of(tt.sum(q))) - (3**12 - 2**12)) < 1e-9


def test_gradient_reaches_the_constant():
    torch = pytest.importorskip("torch")
    with tnlib.use_backend("torch"):
        x = tt.random((3, 4), 2, seed=0)
    c = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    tt.sum(tt.pad(x, ((1, 0), (2, 1)), constant_values=c)).backward()
    assert float(c.grad) == pytest.approx(4 * 7 - 3 * 4, rel=1e-14)


def test_traceable_under_jit():
    jax = pytest.importorskip("jax")
    with tnlib.use_backend("jax"):
        x = tt.random((3, 4), 2, seed=0)
        y = tt.random((3, 2), 1, seed=1)

    @jax.jit
    def run(xc, yc):
        a, b = tt.TTTensor(xc), tt.TTTensor(yc)
        z = tt.concatenate([a, b], axis=1)
        return tt.pad(tt.stack([z, z], axis=0), 1, constant_values=1.5).full()

    z = np.concatenate([np_of(x), np_of(y)], axis=1)
    ref = np.pad(np.stack([z, z]), 1, constant_values=1.5)
    assert np.allclose(np.asarray(run(list(x.cores), list(y.cores))), ref, atol=1e-12)


def test_bad_arguments_are_named(backend):
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    y = tt.random((3, 2, 5), 2, seed=1, backend=backend)
    with pytest.raises(ShapeError, match="differ along axis 0 only"):
        tt.concatenate([x, y], axis=0)
    with pytest.raises(ShapeError, match=r"axis must be an int in \[-3, 2\], got 3"):
        tt.concatenate([x, y], axis=3)
    with pytest.raises(ShapeError, match="axis"):
        tt.concatenate([x, y], axis=1.0)
    with pytest.raises(ShapeError, match="empty"):
        tt.concatenate([])
    with pytest.raises(ShapeError, match="list or tuple"):
        tt.concatenate(x)
    with pytest.raises(ArgumentError, match=r"trains\[1\] must be a TTTensor, got ndarray"):
        tt.concatenate([x, np_of(x)])
    with pytest.raises(ArgumentError, match="TTMatrix"):
        tt.concatenate([x, tt.eye((3, 4, 5))])
    with pytest.raises(ArgumentError, match="dtypes differ"):
        tt.concatenate([x, x.to(dtype="complex128")], axis=0)
    with pytest.raises(ShapeError, match="one shape"):
        tt.stack([x, y])
    with pytest.raises(ShapeError, match=r"\[-4, 3\]"):
        tt.stack([x, x], axis=4)
    with pytest.raises(ArgumentError, match="x must be a TTTensor"):
        tt.pad(np_of(x), 1)
    with pytest.raises(ArgumentError, match="mode must be one of"):
        tt.pad(x, 1, mode="mean")
    with pytest.raises(ArgumentError, match="mode must be one of"):
        tt.pad(x, 1, mode=np.zeros(2))
    for width in (-1, 1.5, ((1, 2), (3, -4), (0, 0)), "2", None):
        with pytest.raises(ArgumentError, match="pad_width"):
            tt.pad(x, width)
    with pytest.raises(ShapeError, match="pad_width of shape"):
        tt.pad(x, ((1, 2), (3, 4)))
    for values in (np.nan, np.inf, ((1, np.nan),), "a", None):
        with pytest.raises(ArgumentError, match="constant_values"):
            tt.pad(x, 1, constant_values=values)
    with pytest.raises(ArgumentError, match="complex constant_values for a real train"):
        tt.pad(x, 1, constant_values=((1j, 0),))
    with pytest.raises(ArgumentError, match="complex constant_values for a real train"):
        tt.pad(x, 1, constant_values=1j)
    with pytest.raises(ArgumentError, match="complex (scalar|constant_values)"):
        tt.pad(x, 1, constant_values=backend.asarray(np.asarray(1j)))
    with pytest.raises(ArgumentError, match="within the range of float32"):
        tt.pad(x.to(dtype="float32"), 1, constant_values=1e300)
