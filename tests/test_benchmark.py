"""``tnlib.benchmark.run`` and ``python -m tnlib bench`` time what they say, where they say."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from tnlib import benchmark, tt
from tnlib.__main__ import main
from tnlib.errors import ArgumentError, BackendError


def test_a_standard_workload_on_every_backend(backend):
    (row,) = benchmark.run(["dot"], backends=[backend.name], repeat=3)
    assert (row.workload, row.backend, row.repeat, row.error) == ("dot", backend.name, 3, "")
    assert 0 < row.min_s <= row.median_s <= row.max_s and row.first_s > 0
    assert row.device == str(backend.parse_device(backend.devices()[0]))


def test_a_setup_of_ones_own_gets_the_backend_and_its_data_there(backend):
    seen = []

    def sleepy_norm(ctx):
        a = ctx.asarray(np.ones((4, 4)))
        seen.append((ctx.backend.name, backend.dtype_name(a), ctx.size))

        def thunk():
            time.sleep(0.01)
            return tt.tt_svd(a, eps=1e-12)
        return thunk

    (row,) = benchmark.run(sleepy_norm, backends=[backend.name], repeat=3, warmup=0)
    assert seen == [(backend.name, "float64", "small")]
    assert row.workload == "sleepy_norm" and row.error == ""
    assert 0.01 <= row.min_s and row.median_s < 1.0  # the sleep is timed, the setup is not


def test_a_failing_workload_is_reported_and_the_others_go_on():
    def broken(ctx):
        def thunk():
            raise RuntimeError("boom")
        return thunk

    rows = benchmark.run([broken, "dot"], backends=["numpy"], repeat=1)
    assert rows[0].error == "RuntimeError: boom" and math.isnan(rows[0].median_s)
    assert rows[1].error == "" and rows[1].median_s > 0
    table = benchmark.format_table(rows)
    assert "failed: RuntimeError: boom" in table and "1.00x" in table


@pytest.mark.parametrize("kwargs, match", [
    ({"workloads": ["nope"]}, "unknown workload 'nope'"),
    ({"repeat": 0}, "repeat must be an int >= 1"),
    ({"size": "huge"}, "size must be"),
    ({"workloads": 3}, "unknown workload 3"),
    ({"workloads": ["dot", None]}, "unknown workload None"),
    ({"dtype": "int32"}, r"dtype must be one of \('float16', .*got 'int32'"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        benchmark.run(**{"backends": ["numpy"], **kwargs})


def test_a_device_the_backend_lacks_is_an_error():
    with pytest.raises(BackendError, match="device 'cuda:7' is not available on backend"):
        benchmark.run(["dot"], backends=["numpy"], device="cuda:7")


def test_the_command_line_writes_json_and_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, png = tmp_path / "b.json", tmp_path / "b.png"
    code = main(["bench", "--backends", "numpy", "--workloads", "dot,hooi", "--repeat", "2",
                 "--json", str(out), "--plot", str(png)])
    assert code == 0
    text = capsys.readouterr().out
    assert "workload" in text and "dot" in text and "hooi" in text
    data = json.loads(out.read_text())
    assert {r["workload"] for r in data["results"]} == {"dot", "hooi"}
    assert data["machine"]["numpy"] == np.__version__
    assert png.stat().st_size > 1000


def test_the_command_line_takes_a_setup_function_by_module_path(capsys):
    code = main(["bench", "--backends", "numpy", "--workloads",
                 "tests.test_benchmark:_tiny", "--repeat", "1"])
    assert code == 0 and "_tiny" in capsys.readouterr().out


def _tiny(ctx):
    a = ctx.asarray(np.arange(6.0).reshape(2, 3))
    return lambda: ctx.backend.sum(a)
