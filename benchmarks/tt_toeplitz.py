"""Causal convolution of QTT functions by the lower Toeplitz TT-matrix of one times the
other, rounded (``tt.toeplitz(f, 0) @ g``, and ``tt.qtt_conv``, which pads both), against
the route through the spectra (three ``tt.qtt_fft``, as ``qtt_conv`` computed it before)
and SciPy's dense ``fftconvolve``; and running sums (``tt.cumsum``) against NumPy and
tntorch.

No Python peer builds a QTT Toeplitz matrix (ttpy's ``Toeplitz`` needs a Fortran build
this machine lacks). Workload: ``y_i = h sum_{j <= i} f(t_i - t_j) g(t_j)`` on ``N = 2^d``
points ``t = j h`` of [0, 1), ``f = exp(-3t) cos 7t`` and ``g = cos 5t``, both sums of
exponentials, so ``y`` has a closed form at every ``i`` (a geometric sum): ``max_err`` is
against it at 2,000 random points, relative to the largest value there. The trains are
made once, untimed; SciPy's row gets the dense vectors ready in memory (2^20, 2^24).

The running sums: the discrete integral ``h cumsum(f)`` of ``f`` on 2^d points (rounded,
against ``sin``'s closed form) next to NumPy's dense ``cumsum``; and the cumulative sum
along one mode of a train of 12 modes of 8, rank 16, against tntorch's ``cumsum``.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

EPS = 1e-10
F_TERMS = ((0.5, -3 + 7j), (0.5, -3 - 7j))     # f(t) = sum a e^{l t}
G_TERMS = ((0.5, 5j), (0.5, -5j))


def _of(terms, t):
    return sum(a * np.exp(lam * t) for a, lam in terms).real


def _exact(i, d):
    """``h sum_{j<=i} f(h(i - j)) g(h j)`` at the integers `i`, in closed form."""
    h = 2.0**-d
    out = np.zeros(i.shape, dtype=complex)
    for a, lam in F_TERMS:
        for b, mu in G_TERMS:
            z = (mu - lam) * h
            out += a * b * np.exp(lam * h * i) * np.expm1(z * (i + 1)) / np.expm1(z)
    return h * out.real


def _rows(report, workload, timing, results, idx, want, baseline):
    for key, stats in timing.items():
        got, rank = results[key]()
        report.add(workload, key, stats, baseline=baseline,
                   max_err=float(np.max(np.abs(got - want)) / np.max(np.abs(want))),
                   max_rank=rank)


def _first_half(y):
    """The first half of a train of ``d + 1`` binary modes (leading digit 0), d modes."""
    head = np.einsum("ab,bjc->ajc", y.cores[0][:, 0], y.cores[1])
    return tt.TTTensor([head, *y.cores[2:]])


def _by_spectra(f, g):
    """The linear convolution through the spectra, as ``qtt_conv`` computed it before:
    both padded by a leading zero digit, transformed, multiplied, rounded and transformed
    back (complex; the rows read its real part)."""
    e0 = tt.TTTensor([np.array([1.0, 0.0]).reshape(1, 2, 1)])
    ff, fg = (tt.qtt_fft(tt.kron(e0, v), eps=EPS) for v in (f, g))
    return tt.qtt_fft(tt.round(ff * fg, EPS), eps=EPS, inverse=True)


def convolution(report, repeats):
    rng = np.random.default_rng(0)
    for d in (20, 24, 40):
        h = 2.0**-d
        f = tt.qtt_function(lambda t: _of(F_TERMS, t), 0.0, 1.0, d, eps=1e-13)
        g = tt.qtt_function(lambda t: _of(G_TERMS, t), 0.0, 1.0, d, eps=1e-13)
        idx = rng.integers(0, 2**d, 2000)
        digits = (idx[:, None] >> np.arange(d - 1, -1, -1)) & 1
        want = _exact(idx, d)
        cands = {
            "tnlib toeplitz(f, 0) @ g": lambda f=f, g=g: tt.round(tt.toeplitz(f, 0) @ g,
                                                                  EPS) * h,
            "tnlib qtt_conv": lambda f=f, g=g: _first_half(tt.qtt_conv(f, g, eps=EPS)) * h,
            "tnlib via spectra (3 qtt_fft)": lambda f=f, g=g: _first_half(
                _by_spectra(f, g)) * h,
        }
        results = {key: (lambda key=key, digits=digits: (lambda y: (
            np.asarray(tnlib.to_numpy(y.evaluate(digits))).real, max(y.ranks)))(
                cands[key]())) for key in cands}
        if d <= 24:
            t = np.arange(2**d) * h
            fd, gd = _of(F_TERMS, t), _of(G_TERMS, t)
            cands["scipy fftconvolve (dense)"] = lambda fd=fd, gd=gd, n=2**d: (
                scipy.signal.fftconvolve(fd, gd)[:n] * h)
            results["scipy fftconvolve (dense)"] = lambda fd=fd, gd=gd, idx=idx, n=2**d: (
                (scipy.signal.fftconvolve(fd, gd)[:n] * h)[idx], "")
        timing = _harness.interleaved(cands, repeats)
        _rows(report, f"causal convolution, 2^{d} points, eps {EPS:g}", timing, results, idx,
              want, "scipy fftconvolve (dense)" if d <= 24 else None)


def running_sums(report, repeats):
    rng = np.random.default_rng(1)
    for d in (24, 40):
        h = 2.0**-d
        f = tt.qtt_function(np.cos, 0.0, 1.0, d, eps=1e-13)
        idx = rng.integers(0, 2**d, 2000)
        digits = (idx[:, None] >> np.arange(d - 1, -1, -1)) & 1
        z = 1j * h  # h sum_{j<=i} cos(jh) = h Re (e^{z(i+1)} - 1) / (e^z - 1)
        want = (h * np.expm1(z * (idx + 1)) / np.expm1(z)).real
        cands = {"tnlib cumsum": lambda f=f: tt.round(tt.cumsum(f), EPS) * h}
        results = {"tnlib cumsum": lambda f=f, digits=digits: (lambda y: (
            np.asarray(tnlib.to_numpy(y.evaluate(digits))), max(y.ranks)))(
                tt.round(tt.cumsum(f), EPS) * h)}
        if d <= 24:
            fd = np.cos(np.arange(2**d) * h)
            cands["numpy cumsum (dense)"] = lambda fd=fd: np.cumsum(fd) * h
            results["numpy cumsum (dense)"] = lambda fd=fd, idx=idx: (
                (np.cumsum(fd) * h)[idx], "")
        timing = _harness.interleaved(cands, repeats)
        _rows(report, f"running integral of cos, 2^{d} points", timing, results, idx, want,
              "numpy cumsum (dense)" if d <= 24 else None)

    x = tt.random((8,) * 12, 16, seed=0)
    idx = rng.integers(0, 8, (2000, 12))
    want = np.asarray(tnlib.to_numpy(tt.cumsum(x, axis=5).evaluate(idx)))  # checked in tests
    cands = {"tnlib cumsum": lambda: tt.cumsum(x, axis=5)}
    results = {"tnlib cumsum": lambda: (np.asarray(tnlib.to_numpy(
        tt.cumsum(x, axis=5).evaluate(idx))), 16)}
    tn = _peers.load("tntorch")
    if tn is not None:
        xt = tn.Tensor(_peers.torch_cores(list(x.cores)))
        cands["tntorch cumsum"] = lambda: tn.cumsum(xt, dim=5)
        results["tntorch cumsum"] = lambda: (np.asarray(tnlib.to_numpy(tt.TTTensor(
            [c.numpy() for c in tn.cumsum(xt, dim=5).cores]).evaluate(idx))), 16)
    timing = _harness.interleaved(cands, repeats)
    _rows(report, "cumsum along mode 5 of 12 modes of 8, rank 16", timing, results, idx,
          want, "tntorch cumsum" if tn is not None else None)


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_toeplitz", "Toeplitz convolution and running sums of trains")
    convolution(report, repeats)
    running_sums(report, repeats)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
