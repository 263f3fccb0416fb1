#!/usr/bin/env bash
# The GPU check of this project, as one command for a machine with a CUDA device (its
# python3 holding torch, JAX and CuPy; tnlib from this checkout, nothing installed):
#
#   bash benchmarks/device_check.sh          # results under $OUT (default /tmp/tnlib-gpu)
#
# 1. The GPU test subset: the TT algebra, rounding, solver, CP (dense and sparse), sparse HOOI,
#    backend-contract, local operator, Krylov, sampling, extrema, spectra, QTT Fourier
#    transform and SVD-retry tests
#    with torch tensors on the GPU (TNLIB_TEST_DEVICE=cuda) and JAX and CuPy on their GPU,
#    so the accelerator paths (tree dot, Gram-eigensolver rounding, run-ahead Krylov, dense AMEn
#    local solves, Gram bond splits, device evaluate) run for real. Log: tests.log.
# 2. benchmarks/gpu.py: one row per workload and backend with medians, the host's NumPy
#    median, the speedup, reads, launches, synchronizations and the dense-kernel limit.
#    Output: gpu.json, gpu.log.
# 3. benchmarks/gpu_linalg.py: the small eigensolvers, SVDs, QRs and solves of those
#    workloads on the device against copying them to the host and back (should they run
#    there?). Output: gpu_linalg.json, gpu_linalg.log.
# Each part has its own time limit, so the later ones run whatever the earlier do; the
# three fit one 10-minute device call.
set -u
OUT=${OUT:-/tmp/tnlib-gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export TNLIB_TEST_DEVICE=${TNLIB_TEST_DEVICE:-cuda}
export TNLIB_TEST_BACKENDS=${TNLIB_TEST_BACKENDS:-numpy,torch,jax,cupy}
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" \
    | tee "$OUT/device.txt"
timeout "${TEST_LIMIT:-210}" python3 -m pytest -q -p no:cacheprovider -x \
    tests/tt/test_algebra.py tests/tt/test_round.py tests/tt/test_solvers.py \
    tests/cp/test_cp.py tests/cp/test_sparse.py tests/tucker/test_sparse.py \
    tests/backends/test_contract.py tests/tt/test_env.py \
    tests/linalg/test_krylov.py tests/tt/test_sample.py tests/tt/test_optima.py \
    tests/tt/test_spectrum.py tests/tt/test_fft.py tests/backends/test_svd_retry.py \
    > "$OUT/tests.log" 2>&1
echo "tests: exit $? ($(tail -n 1 "$OUT/tests.log"))"
timeout "${BENCH_LIMIT:-270}" python3 benchmarks/gpu.py > "$OUT/gpu.log" 2>&1
echo "gpu.py: exit $?"
cat "$OUT/gpu.log"
timeout "${LINALG_LIMIT:-75}" python3 benchmarks/gpu_linalg.py > "$OUT/gpu_linalg.log" 2>&1
echo "gpu_linalg.py: exit $?"
cat "$OUT/gpu_linalg.log"
