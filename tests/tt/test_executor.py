"""cross / qtt_function / apply on a concurrent.futures executor: same result as serial."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from tnlib import tt
from tnlib.errors import ArgumentError, EvaluationError, ExecutionError

from ..helpers import np_of

SHAPE = (12,) * 6
GRID = np.linspace(0.0, 1.0, 12)


def smooth(idx):
    """A module-level black box (so that process pools can pickle it)."""
    x = GRID[np.asarray(idx)]
    return 1.0 / (1.0 + x.sum(axis=1)) + np.sin(x[:, 0] * x[:, -1])


class Recorder:
    def __init__(self):
        self.points = []

    def __call__(self, idx):
        self.points.append(np.asarray(idx).copy())
        return smooth(idx)


def _processes():
    # spawn, not fork: the test process runs framework threads (JAX, TF) that fork would copy
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))


def _serial():
    rec = Recorder()
    x, info = tt.cross(rec, SHAPE, eps=1e-8, seed=3, return_info=True)
    return x, info, np.concatenate(rec.points)


@pytest.mark.parametrize("kind, batch_size", [("threads", None), ("threads", 7),
                                              ("processes", 64)])
def test_cross_on_an_executor_equals_the_serial_run(kind, batch_size):
    x_ref, info_ref, asked = _serial()
    pool = ThreadPoolExecutor(3) if kind == "threads" else _processes()
    with pool:
        x, info = tt.cross(smooth, SHAPE, eps=1e-8, seed=3, return_info=True,
                           executor=pool, batch_size=batch_size)
    assert info.evaluations == info_ref.evaluations == len(np.unique(asked, axis=0))
    assert x.ranks == x_ref.ranks
    for a, b in zip(x.cores, x_ref.cores):
        np.testing.assert_array_equal(np_of(a), np_of(b))


def test_chunks_cover_each_batch_once_and_in_order():
    rec = Recorder()
    with ThreadPoolExecutor(4) as pool:
        tt.cross(rec, SHAPE, eps=1e-8, seed=3, executor=pool, batch_size=5)
    sizes = [len(p) for p in rec.points]
    assert max(sizes) <= 5
    _, _, asked = _serial()
    got = np.concatenate(rec.points)
    np.testing.assert_array_equal(np.sort(got.view([("", got.dtype)] * 6), axis=0),
                                  np.sort(asked.view([("", asked.dtype)] * 6), axis=0))


def test_qtt_function_and_apply_take_an_executor(backend):
    with ThreadPoolExecutor(2) as pool:
        q = tt.qtt_function(np.sin, 0.0, 1.0, 20, eps=1e-12, executor=pool, batch_size=8)
        x = tt.random((4, 5, 6), 2, seed=0, backend=backend) + 10.0
        y = tt.apply(lambda a: 1.0 / a, x, eps=1e-10, executor=pool)
    assert max(q.ranks) == 2
    assert y.backend.name == backend.name
    np.testing.assert_allclose(np_of(y), 1.0 / np_of(x), rtol=1e-8)


def test_the_wrappers_of_qtt_function_and_apply_pickle_for_process_pools():
    q = tt.qtt_function(np.sin, 0.0, 1.0, 20, eps=1e-12)
    x = tt.random((4, 5, 6), 2, seed=0) + 10.0
    with _processes() as pool:
        q2 = tt.qtt_function(np.sin, 0.0, 1.0, 20, eps=1e-12, executor=pool)
        y = tt.apply(np.reciprocal, x, eps=1e-10, executor=pool)
    np.testing.assert_array_equal(np_of(q2.cores[0]), np_of(q.cores[0]))
    np.testing.assert_allclose(np_of(y), 1.0 / np_of(x), rtol=1e-8)


def _fails_at_a_point(idx):
    idx = np.asarray(idx)
    if (idx[:, 0] == 11).any():
        raise RuntimeError("solver diverged")
    return smooth(idx)


def _wrong_shape(idx):
    return smooth(idx)[:-1]


def test_worker_failures_surface_as_evaluation_errors():
    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(EvaluationError, match="RuntimeError: solver diverged") as err:
            tt.cross(_fails_at_a_point, SHAPE, eps=1e-8, seed=3, executor=pool)
        assert isinstance(err.value.__cause__, RuntimeError)
        with pytest.raises(EvaluationError, match="shape"):
            tt.cross(_wrong_shape, SHAPE, seed=3, executor=pool)
        with pytest.raises(EvaluationError, match=r"nan at index \(3, "):
            tt.cross(lambda i: np.where(np.asarray(i)[:, 0] == 3, np.nan, smooth(i)), SHAPE,
                     seed=3, executor=pool, batch_size=4)


def test_bad_executor_arguments_are_refused():
    with pytest.raises(ArgumentError, match="executor"):
        tt.cross(smooth, SHAPE, executor=4)
    with ThreadPoolExecutor(1) as pool, pytest.raises(ArgumentError, match="batch_size"):
        tt.cross(smooth, SHAPE, executor=pool, batch_size=0)
    # a pool already shut down refuses the batches: named (was the pool's RuntimeError)
    with pytest.raises(ExecutionError, match=r"cross: the executor refused a batch of points "
                                             r"\(RuntimeError: cannot schedule"):
        tt.cross(smooth, SHAPE, executor=pool)


def test_cross_on_a_dask_cluster_equals_the_serial_run():
    distributed = pytest.importorskip("distributed")
    x_ref, info_ref, _ = _serial()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        x, info = tt.cross(smooth, SHAPE, eps=1e-8, seed=3, return_info=True,
                           executor=client.get_executor())
    assert info.evaluations == info_ref.evaluations
    for a, b in zip(x.cores, x_ref.cores):
        np.testing.assert_array_equal(np_of(a), np_of(b))


def test_cross_on_a_cluster_without_workers_raises_instead_of_hanging():
    distributed = pytest.importorskip("distributed")
    dask = pytest.importorskip("dask")
    from tnlib.errors import ExecutionError

    with dask.config.set({"tnlib.no-workers-timeout": 1}), \
            distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with pytest.raises(ExecutionError, match="no workers for 1 s"):
            tt.cross(smooth, SHAPE, eps=1e-6, seed=3, executor=client.get_executor())
