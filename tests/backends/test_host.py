"""Host execution: eager CPU arrays run an algorithm through NumPy, invisibly but for speed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tnlib
from tnlib import tt
from tnlib.backends import host_execution
from tnlib.tt import TTTensor

from ..helpers import assert_like, on, rel_error


def _data(shape=(6, 7, 8, 5), seed=0):
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in shape], indexing="ij")
    return 1.0 / (1.0 + sum(grids)) + 1e-3 * rng.standard_normal(shape)


def _opts_in(xp):
    return xp.host_eligible([xp.ones((2,))])


def test_numpy_and_cupy_never_opt_in(backend):
    if backend.name in ("numpy", "cupy"):
        assert not _opts_in(backend)


def test_both_paths_agree_on_value_backend_dtype_device(backend):
    a = on(backend, _data())
    x = tt.tt_svd(a, eps=1e-6)
    y = tt.round(x + x, eps=1e-6)
    values = (tt.norm(x), tt.dot(x, y), tt.sum(x), tt.evaluate(x, on(backend, [[1, 2, 3, 4]])))
    with host_execution(False):
        x0 = tt.tt_svd(a, eps=1e-6)
        y0 = tt.round(x0 + x0, eps=1e-6)
        values0 = (tt.norm(x0), tt.dot(x0, y0), tt.sum(x0),
                   tt.evaluate(x0, on(backend, [[1, 2, 3, 4]])))
    assert x.ranks == x0.ranks and y.ranks == y0.ranks
    assert rel_error(x, x0) < 1e-12 and rel_error(y, 2 * x0.full()) < 1e-6
    assert_like(x, x0)
    assert_like(y, y0)
    for v, v0 in zip(values, values0):
        assert type(v) is type(v0)
        if backend.is_array(v0):
            assert_like(v, v0)
        assert abs(backend.item(v) - backend.item(v0)) <= 1e-12 * abs(backend.item(v0))


@pytest.mark.parametrize("enabled", [True, False])
def test_host_path_uses_numpy_kernels(backend, monkeypatch, enabled):
    calls = []
    real = backend.svd

    def counting_svd(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "svd", counting_svd)
    a = on(backend, _data())
    with host_execution(enabled):
        x = tt.tt_svd(a, eps=1e-8)
    assert tnlib.backend_of(x.cores[0]) is backend
    if enabled and _opts_in(backend):
        assert calls == []
    else:
        assert calls


def test_environment_variable_turns_it_off(backend, monkeypatch):
    monkeypatch.setenv("TNLIB_HOST_EXECUTION", "0")
    seen = []
    monkeypatch.setattr(backend, "qr", lambda *a, **k: seen.append(1) or type(backend).qr(
        backend, *a, **k))
    x = tt.tt_svd(on(backend, _data()), eps=1e-8)
    tt.orthogonalize(x, "left")
    assert seen


def test_black_box_sees_the_callers_arrays(backend):
    seen = set()
    grid = np.linspace(0, 1, 9)

    def f(idx):
        seen.add(tnlib.backend_of(idx).name)
        x = backend.take(on(backend, grid), idx, axis=0)
        return 1.0 / (1.0 + backend.sum(x, axis=1))

    y, info = tt.cross(f, (9,) * 5, eps=1e-10, seed=0, backend=backend, return_info=True)
    assert seen == {backend.name}
    assert tnlib.backend_of(y.cores[0]) is backend
    ref = 1.0 / (1.0 + sum(np.meshgrid(*[grid] * 5, indexing="ij")))
    assert rel_error(y, ref) < 1e-8
    with host_execution(False):
        y0, info0 = tt.cross(f, (9,) * 5, eps=1e-10, seed=0, backend=backend,
                             return_info=True)
    assert info.evaluations == info0.evaluations and y.ranks == y0.ranks


def test_gradients_take_the_framework_path(ad_backend):
    """Under jax.grad, a GradientTape or torch autograd the framework's own ops must run."""
    xp = ad_backend
    rng = np.random.default_rng(1)
    cores = [on(xp, rng.standard_normal(s)) for s in ((1, 3, 2), (2, 4, 2), (2, 3, 1))]
    y = TTTensor([on(xp, rng.standard_normal(s)) for s in ((1, 3, 3), (3, 4, 2), (2, 3, 1))])

    def f(c):
        return tt.dot(TTTensor([c * cores[0], cores[1], cores[2]]), y) ** 2 + tt.norm(
            tt.round(TTTensor([c * cores[0], cores[1], cores[2]]), eps=0.0))

    c = on(xp, np.array(0.7))
    g = xp.grad(f)(c)
    d0 = xp.item(tt.dot(TTTensor(cores), y))
    n0 = xp.item(tt.norm(TTTensor(cores)))
    expect = 2 * 0.7 * d0 ** 2 + n0
    assert abs(xp.item(g) - expect) < 1e-10 * abs(expect)


def test_jax_jit_takes_the_framework_path():
    jax = pytest.importorskip("jax")
    xp = tnlib.backends.get("jax")
    a = on(xp, _data())

    @jax.jit
    def norm_of_svd(a):
        return tt.norm(tt.tt_svd(a, max_rank=3))

    value = norm_of_svd(a)
    assert isinstance(value, jax.Array)
    assert abs(float(value) - xp.item(tt.norm(tt.tt_svd(a, max_rank=3)))) < 1e-10


@pytest.mark.parametrize("name", ["jax", "tensorflow"])
def test_first_call_does_not_compile_for_seconds(name):
    """JAX compiled every primitive per new shape: 12 s for a first TT-SVD of 8^6."""
    pytest.importorskip(name)
    code = (
        "import time, numpy as np, tnlib\nfrom tnlib import tt\n"
        f"xp = tnlib.backends.get({name!r})\n"
        "g = np.meshgrid(*[np.linspace(0, 1, 8)] * 6, indexing='ij')\n"
        "a = xp.asarray(1 / (1 + sum(g)), dtype='float32')\n"
        "t = time.perf_counter()\n"
        "x = tt.tt_svd(a, eps=1e-5); y = tt.round(x + x, eps=1e-5); n = tt.norm(y)\n"
        "print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1",
                                          "PATH": "/usr/bin:/bin"})
    assert float(out.stdout.strip().splitlines()[-1]) < 3.0


def test_warnings_name_the_callers_line(backend):
    a = on(backend, _data(), dtype="float32")
    with pytest.warns(tnlib.PrecisionWarning) as record:
        tt.tt_svd(a, eps=1e-12)
    assert record[0].filename == __file__
    with pytest.warns(tnlib.ConvergenceWarning) as record:
        tt.cross(lambda i: backend.sum(backend.astype(i, "float64"), axis=1) ** 0.5, (8,) * 6,
                 eps=1e-12, max_sweeps=1, seed=0, backend=backend)
    assert record[0].filename == __file__


def test_host_execution_refuses_a_non_boolean():
    with pytest.raises(tnlib.ArgumentError, match="host_execution: enabled must be True or "
                                                  "False, got 'no'"):
        with host_execution("no"):
            pass


@pytest.mark.parametrize("enabled", [True, False])
def test_train_algebra_runs_on_the_host(backend, monkeypatch, enabled):
    """x + y, x * y, c * x and the joins: eager JAX compiled every primitive for every new
    core shape (x - y of 20 cores: 1.8 s the first time, 0.24 s on the host)."""
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    y = tt.random((3, 4, 5), 3, seed=1, backend=backend)
    calls = []
    for name in ("concatenate", "einsum", "zeros"):
        real = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda *a, real=real, **k: calls.append(1)
                            or real(*a, **k))
    with host_execution(enabled):
        out = [x + y, x - y, x * y, 2.0 * x, tt.concatenate([x, y], axis=1),
               tt.stack([x, y]), tt.pad(x, 1, constant_values=1.0)]
    for z in out:
        assert tnlib.backend_of(z.cores[0]) is backend
        assert_like(z.cores[0], x.cores[0])
    assert rel_error(out[1], np.asarray(tnlib.to_numpy(x.full()))
                     - np.asarray(tnlib.to_numpy(y.full()))) < 1e-13
    if enabled and _opts_in(backend):
        assert calls == []
    elif backend.name != "numpy":
        assert calls


@pytest.mark.parametrize("enabled", [True, False])
def test_riemannian_steps_run_on_the_host_at_the_callers_frame(backend, monkeypatch, enabled):
    """Frames, projections, tangent arithmetic and retractions: eager JAX compiled each for
    every new rank pattern (frame 0.7 s, project 0.5 s, retract 0.5 s, inner 0.2 s at d=10,
    r=8; 2-20 ms on the host). Vectors made at one point share its frame by identity:
    the host copy of a frame is made once, and converts back to the caller's frame."""
    from tnlib import riemannian
    from tnlib.riemannian.tangent import frame_of

    x = tt.random((3, 4, 5, 3), 2, seed=0, backend=backend)
    z = tt.random((3, 4, 5, 3), 3, seed=1, backend=backend)
    calls = []
    for name in ("qr", "einsum", "matmul", "concatenate"):
        real = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda *a, real=real, **k: calls.append(1)
                            or real(*a, **k))
    with host_execution(enabled):
        frame = frame_of(x)
        v = riemannian.project(x, z)
        w = riemannian.project(x, x)
        s = 2.0 * v - w
        inner = v.inner(w)
        y = riemannian.retract(x, s, 0.1)
        back = riemannian.project(x, s)  # a tangent vector at x: itself
    for t in (v, w, s, back):
        assert t.frame is frame
        assert_like(t.deltas[0], x.cores[0])
    assert back is s or rel_error(back, np.asarray(tnlib.to_numpy(s.full()))) < 1e-13
    assert_like(y.cores[0], x.cores[0])
    assert_like(inner, x.cores[0])
    full = lambda t: np.asarray(tnlib.to_numpy(t.full())).ravel()  # noqa: E731
    assert abs(float(tnlib.to_numpy(inner)) - full(v) @ full(w)) < 1e-10 * abs(full(v) @ full(w))
    assert rel_error(w, np.asarray(tnlib.to_numpy(x.full()))) < 1e-13
    if enabled and _opts_in(backend):
        assert calls == []
    elif backend.name != "numpy":
        assert calls


def test_reads_of_trains_run_on_the_host_and_keep_their_types(backend, monkeypatch):
    """Sobol indices, samples, extrema, spectra, slices, products with a TT-matrix, and
    the dense arrays, norms, products and roundings of Tucker, CP and HT tensors: eager
    JAX took 0.2-4.9 s on the first call of each (a compilation per primitive and shape),
    0.001-0.4 s on the host. The results keep their types
    (NamedTuples included), NumPy's values, and come back on the caller's backend."""
    from tnlib import cp, ht, tucker

    def reads(be):
        x = tt.random((3, 3, 3, 3), 3, seed=0, backend=be)
        pos = tt.TTTensor([be.abs(c) for c in x.cores])
        a = tt.laplacian(3, 4, backend=be)
        t = tucker.random((5, 6, 7), 3, seed=0, backend=be)
        c = cp.random((5, 6, 7), 3, seed=0, backend=be)
        h = ht.random((3, 4, 5, 6), 3, seed=0, backend=be)
        f = tt.ChebyshevTT(tt.random((6, 5), 2, seed=0, backend=be), [(-1, 1), (0, 2)])
        return [tt.sobol(pos), tt.sobol_pairs(pos), tt.sample(pos, 20, seed=0),
                tt.max_abs(x), tt.extrema(x), tt.singular_values(x),
                tt.entanglement_entropy(x), x[1, :, 2], a @ pos, a @ a, t.round(max_rank=2),
                tt.diag(x), tt.trace(a), t.full(), t.norm(), t.dot(t), t.to_tt(), c.full(),
                c.norm(), c.dot(c), c.to_tt(), h.full(), h.norm(), h.dot(h),
                h.orthogonalize().full(), ht.truncate(h, max_rank=2).full(), ht.from_tt(x),
                f(be.asarray(np.full((5, 2), 0.3))), f.integral(), f.values(), f.sobol()]

    calls = []
    real = backend.einsum
    monkeypatch.setattr(backend, "einsum", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = reads(backend)
    assert not calls or not _opts_in(backend)
    ref = reads(tnlib.backends.get("numpy"))
    assert type(got[0]).__name__ == "SobolIndices" and type(got[4]).__name__ == "Extrema"
    for g, r in zip(got, ref):
        assert backend.is_array(g) or type(g) is type(r)
        for u, v in zip(g if isinstance(g, (tuple, list)) else [g],
                        r if isinstance(r, (tuple, list)) else [r]):
            if hasattr(v, "full"):
                u, v = u.full(), v.full()
            assert tnlib.backend_of(u) is backend
            assert np.allclose(np.asarray(tnlib.to_numpy(u)), v, rtol=1e-10, atol=1e-12)


def test_the_host_path_flags_no_floating_point_exceptions(backend):
    """x * inf of a train with zeros gives NaN there, silently in the frameworks; on their
    host path NumPy warned "invalid value encountered in multiply" (tnlib's own warnings
    still come, and NumPy arrays keep NumPy's)."""
    import warnings

    a = tt.laplacian(4, 3, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if backend.name != "numpy" else "ignore", RuntimeWarning)
        with host_execution(True):
            got = np.asarray(tnlib.to_numpy((a * np.inf).full()))
    with warnings.catch_warnings(), host_execution(False):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.asarray(tnlib.to_numpy((a * np.inf).full()))
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.isnan(got).any()
