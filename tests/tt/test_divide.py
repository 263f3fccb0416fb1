"""tt.divide: the entrywise quotient by AMEn on diag(y), within the residual times the
condition number of diag(y)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt
from tnlib.errors import ArgumentError, ConvergenceWarning, ShapeError


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_quotient_of_two_qtt_functions(backend, dtype):
    t = np.linspace(0, 1, 2**14)
    num = np.sin(3 * t) + 2
    den = 1 + t**2 + (0.5j * t if dtype == "complex128" else 0)
    eps, exact = (1e-5, 1e-6) if dtype == "float32" else (1e-10, 1e-13)
    x = tt.quantize(backend.asarray(num.astype(dtype)), eps=exact)
    y = tt.quantize(backend.asarray(den.astype(dtype)), eps=exact)
    z, info = tt.divide(x, y, eps=eps, return_info=True)
    assert info.converged and info.residual <= eps
    cond = np.abs(den).max() / np.abs(den).min()
    assert rel_error(z, (num / den).reshape(z.shape)) <= 2 * eps * cond
    assert max(z.ranks) <= (8 if dtype != "float32" else 6)
    assert_like(z.cores[0], x.cores[0])


def test_quotient_of_random_trains_within_the_condition_bound(backend):
    x = tt.random((5, 4, 6, 3), 3, seed=0, backend=backend)
    p = tt.random((5, 4, 6, 3), 2, seed=1, backend=backend)
    y = (tt.ones((5, 4, 6, 3), backend=backend) * 3.0 + p * (1.0 / float(np_of(tt.norm(p))))
         ).round(1e-14)
    den = np_of(y)
    z = tt.divide(x, y, eps=1e-9)
    cond = np.abs(den).max() / np.abs(den).min()
    assert rel_error(z, np_of(x) / den) <= 2e-9 * cond
    # a guess and a rank bound are the solver's
    z2 = tt.divide(x, y, eps=1e-9, x0=x)
    assert rel_error(z2, np_of(x) / den) <= 2e-9 * cond


def test_a_zero_in_the_divisor_warns_and_stays_finite(backend):
    t = np.linspace(0, 1, 2**8)
    x = tt.quantize(backend.asarray(np.cos(t) + 2), eps=1e-13)
    y = tt.quantize(backend.asarray(t), eps=1e-13)                 # y(0) = 0
    with pytest.warns(ConvergenceWarning, match="max_sweeps"):
        z = tt.divide(x, y, eps=1e-10, max_sweeps=3)
    assert np.all(np.isfinite(np_of(z.full())))


def test_bad_arguments_are_named(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    with pytest.raises(ArgumentError, match="divide: y must be a TTTensor, got ndarray"):
        tt.divide(x, np_of(x))
    with pytest.raises(ArgumentError, match="divide: x must be a TTTensor"):
        tt.divide(2.0, x)
    with pytest.raises(ShapeError, match="divide: shapes differ"):
        tt.divide(x, tt.random((4, 3), 2, seed=0, backend=backend))
    with pytest.raises(ArgumentError, match="divide: dtypes differ"):
        tt.divide(x, x.to(dtype="complex128"))
    with pytest.raises(ArgumentError, match="divide: eps"):
        tt.divide(x, x, eps=-1.0)
    with pytest.raises(ShapeError, match=r"tt.divide\(x, y, eps\)"):
        x / x
    bad = tt.TTTensor([x.cores[0] * np.nan, x.cores[1]])
    with pytest.raises(ArgumentError, match=r"divide: y.cores\[0\] holds non-finite"):
        tt.divide(x, bad)                             # was named amen_solve's A
    with pytest.raises(ArgumentError, match=r"divide: x.cores\[0\] holds non-finite"):
        tt.divide(bad, x)                             # ... and f
    with pytest.raises(ArgumentError, match="divide: max_sweeps must be an integer >= 1"):
        tt.divide(x, x, max_sweeps=0)
    with pytest.raises(ArgumentError, match="divide: max_rank"):
        tt.divide(x, x, max_rank=-1)
    with pytest.raises(ArgumentError, match="divide: x0 must be a TTTensor"):
        tt.divide(x, x, x0=np_of(x))
