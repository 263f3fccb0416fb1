"""``verbose=``, ``progress=`` and ``callback=`` of the iterative methods report every sweep."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from tnlib import cp, riemannian, tt, tucker
from tnlib.errors import ArgumentError, ConvergenceWarning

from .helpers import on

pytest.importorskip("tqdm")


def _problems(xp):  # noqa: ANN001, ANN202 - (name, call(**report) -> info) per method
    rng = np.random.default_rng(0)
    small = on(xp, rng.standard_normal((6, 5, 4)))
    h = tt.laplacian(6, 4, backend=xp)
    grid = np.linspace(0, 1, 8)
    a = tt.random((5,) * 4, 3, seed=1, backend=xp)
    return {
        "cp_als": lambda **k: cp.cp_als(small, 2, max_iter=5, tol=0, return_info=True, **k)[1],
        "cp_gradient": lambda **k: cp.cp_gradient(small, 2, max_iter=4, tol=0, seed=0,
                                                  return_info=True, **k)[1],
        "hooi": lambda **k: tucker.hooi(small, (2, 2, 2), max_iter=4, tol=0,
                                        return_info=True, **k)[1],
        "cross": lambda **k: tt.cross(lambda i: np.sum(grid[i], axis=1), (8,) * 5, eps=1e-8,
                                      seed=0, backend="numpy", return_info=True, **k)[1],
        "amen_solve": lambda **k: tt.amen_solve(h, tt.ones((6,) * 4, backend=xp), eps=1e-6,
                                                return_info=True, **k)[1],
        "dmrg_eig": lambda **k: tt.dmrg_eig(h, max_rank=4, max_sweeps=3, return_info=True,
                                            **k)[2],
        "tdvp": lambda **k: tt.tdvp(h, tt.ones((6,) * 4, backend=xp), -0.01, steps=3,
                                    return_info=True, **k)[1],
        "minimize": lambda **k: riemannian.minimize(
            lambda y: 0.5 * tt.norm(y - a) ** 2, a.round(max_rank=2), grad=lambda y: y - a,
            max_iter=5, return_info=True, **k)[1],
    }


METHODS = ["cp_als", "cp_gradient", "hooi", "cross", "amen_solve", "dmrg_eig", "tdvp",
           "minimize"]


@pytest.mark.parametrize("method", METHODS)
def test_one_line_one_bar_step_and_one_callback_per_sweep(method, capsys):
    import tnlib

    problem = _problems(tnlib.backends.get("numpy"))[method]
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        quiet = problem()
        assert capsys.readouterr() == ("", "")  # silent by default
        info = problem(verbose=True, progress=True, callback=lambda i: seen.append(i.iterations))
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.startswith(method)]
    assert info.iterations == quiet.iterations >= 1
    assert len(lines) == info.iterations
    assert seen == list(range(1, info.iterations + 1))
    assert f"{info.iterations}/" in err and method in err  # the bar ran to the last sweep


def test_reporting_on_every_backend(backend, capsys):
    rng = np.random.default_rng(1)
    a = on(backend, rng.standard_normal((5, 6, 7)))
    records = []
    _, info = cp.cp_als(a, 3, max_iter=3, tol=0, verbose=True, return_info=True,
                        callback=lambda i: records.append(i.errors[-1]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(records) == info.iterations == 3
    # the printed error is the recorded one
    for line, err in zip(lines, records):
        assert f"error {err:.3e}" in line


def test_progress_without_tqdm_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    a = np.random.default_rng(0).standard_normal((4, 4, 4))
    with pytest.raises(ArgumentError, match="tqdm"):
        tucker.hooi(a, 2, progress=True)


def test_a_callback_that_is_not_callable_is_refused():
    a = np.random.default_rng(0).standard_normal((4, 4, 4))
    with pytest.raises(ArgumentError, match="callback"):
        cp.cp_als(a, 2, callback=3)
