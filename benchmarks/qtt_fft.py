"""The DFT of a signal in QTT format (``tt.qtt_fft``) against NumPy's dense FFT.

No peer library in Python has a QTT Fourier transform (TT-Toolbox's ``qtt_fft1`` is
MATLAB), so the reference is ``numpy.fft.fft`` (pocketfft) of the dense vector, given
ready in memory. The signal is a Gaussian-modulated cosine, ``exp(-((t - 1/2)/0.05)^2)
cos(600 pi t)`` on ``N = 2^d`` points of [0, 1), whose QTT (by cross, not timed) has rank
18 and whose spectrum rank 10. tnlib's row is QTT in, QTT out, eps 1e-10; ``rel_err`` is
against the dense FFT where it fits in memory (2^20, 2^24), and against the continuous
transform (N times it, at seven frequencies) beyond. Then the linear convolution of two
Gaussians by ``tt.qtt_conv`` against NumPy's dense FFT convolution, and the 2-D transform
(``dims=2``) of ``u(s) v(t) + v(s) u(t)`` (u the signal above, v a Gaussian of width 0.1
at 0.3) against ``numpy.fft.fft2``; beyond memory, ``rel_err`` is against the same sum of
products of the 1-D transforms.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

SIGMA, F0 = 0.05, 300.0


def _signal(t):
    return np.exp(-(((t - 0.5) / SIGMA) ** 2)) * np.cos(2 * np.pi * F0 * t)


def _continuous_error(y, d):
    k = np.array([0, 250, 290, 300, 301, 320, 400])
    digits = (k[:, None] >> np.arange(d - 1, -1, -1)[None, :]) & 1
    got = np.asarray(tnlib.to_numpy(y.evaluate(digits))) / 2.0**d

    def g(nu):
        return SIGMA * np.sqrt(np.pi) * np.exp(-np.pi * 1j * nu - (np.pi * SIGMA * nu) ** 2)

    want = 0.5 * (g(k - F0) + g(k + F0))
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("qtt_fft", "Fourier transform of a QTT signal vs the dense FFT")
    for d in (20, 24, 30, 40, 50):
        x = tt.qtt_function(_signal, 0.0, 1.0, d, eps=1e-12)
        cands = {"tnlib qtt_fft": lambda x=x: tt.qtt_fft(x, eps=1e-10)}
        dense = None
        if d <= 24:
            dense = _signal(np.arange(2**d) / 2**d)
            cands["numpy.fft.fft (dense vector)"] = lambda v=dense: np.fft.fft(v)
        timing = _harness.interleaved(cands, repeats)
        y = cands["tnlib qtt_fft"]()
        if dense is not None:
            ref = np.fft.fft(dense)
            err = float(np.linalg.norm(np.asarray(tnlib.to_numpy(tt.dequantize(y))) - ref)
                        / np.linalg.norm(ref))
        else:
            err = _continuous_error(y, d)
        for key, stats in timing.items():
            ours = key.startswith("tnlib")
            report.add(f"N = 2^{d}", key, stats,
                       baseline="numpy.fft.fft (dense vector)" if dense is not None else None,
                       rel_err=err if ours else 0.0, max_rank=max(y.ranks) if ours else "")
    _convolutions(report, repeats)
    _two_dimensional(report, repeats)
    report.print()
    report.save()
    return report


def _convolutions(report: _harness.Report, repeats: int) -> None:
    """The linear convolution of two Gaussians (widths 0.01 and 0.02) sampled on 2^d
    points: ``tt.qtt_conv`` (three QTT transforms, eps 1e-10) against the dense one by
    NumPy's real FFTs of the zero-padded vectors. ``rel_err``: against the closed form
    (a Gaussian of width hypot(0.01, 0.02)) at four points."""
    s1, s2 = 0.01, 0.02

    def gauss(c, s):
        return lambda t: np.exp(-(((t - c) / s) ** 2) / 2)

    for d in (20, 24, 30):
        x, y = (tt.qtt_function(gauss(c, s), 0.0, 1.0, d, eps=1e-12)
                for c, s in ((0.3, s1), (0.2, s2)))
        cands = {"tnlib qtt_conv": lambda x=x, y=y: tt.qtt_conv(x, y, eps=1e-10)}
        if d <= 24:
            t = np.arange(2**d) / 2**d
            a, b = gauss(0.3, s1)(t), gauss(0.2, s2)(t)
            cands["numpy rfft convolution (dense vectors)"] = lambda a=a, b=b: np.fft.irfft(
                np.fft.rfft(a, 2 * len(a)) * np.fft.rfft(b, 2 * len(b)), 2 * len(a))
        timing = _harness.interleaved(cands, repeats)
        z = cands["tnlib qtt_conv"]()
        h, s = 2.0**-d, np.hypot(s1, s2)
        k = (np.array([0.5, 0.45, 0.6, 0.56]) / h).astype(np.int64)
        digits = (k[:, None] >> np.arange(d, -1, -1)[None, :]) & 1
        got = np.asarray(tnlib.to_numpy(z.evaluate(digits))) * h
        want = s1 * s2 * np.sqrt(2 * np.pi) / s * np.exp(-(((k * h - 0.5) / s) ** 2) / 2)
        err = float(np.abs(got - want).max() / want.max())
        for key, stats in timing.items():
            ours = key.startswith("tnlib")
            report.add(f"convolution, N = 2^{d}", key, stats,
                       baseline="numpy rfft convolution (dense vectors)" if d <= 24 else None,
                       rel_err=err if ours else 0.0, max_rank=max(z.ranks) if ours else "")


def _two_dimensional(report: _harness.Report, repeats: int) -> None:
    def bump(t):
        return np.exp(-(((t - 0.3) / 0.1) ** 2))

    for d in (10, 12, 20):
        u = tt.qtt_function(_signal, 0.0, 1.0, d, eps=1e-12)
        v = tt.qtt_function(bump, 0.0, 1.0, d, eps=1e-12)
        x = (tt.kron(u, v) + tt.kron(v, u)).round(1e-13)
        cands = {"tnlib qtt_fft dims=2": lambda x=x: tt.qtt_fft(x, eps=1e-10, dims=2)}
        base = "numpy.fft.fft2 (dense grid)"
        if d <= 12:
            t = np.arange(2**d) / 2**d
            a = np.outer(_signal(t), bump(t)) + np.outer(bump(t), _signal(t))
            cands[base] = lambda a=a: np.fft.fft2(a)
        timing = _harness.interleaved(cands, repeats)
        y = cands["tnlib qtt_fft dims=2"]()
        if d <= 12:
            ref = np.fft.fft2(a)
            got = np.asarray(tnlib.to_numpy(y.full())).reshape(ref.shape)
            err = float(np.linalg.norm(got - ref) / np.linalg.norm(ref))
        else:
            fu, fv = tt.qtt_fft(u, eps=1e-12), tt.qtt_fft(v, eps=1e-12)
            ref = tt.kron(fu, fv) + tt.kron(fv, fu)
            err = float(tt.norm(y - ref) / tt.norm(ref))
        for key, stats in timing.items():
            ours = key.startswith("tnlib")
            report.add(f"2-D, N = 2^{d} x 2^{d}", key, stats, baseline=base if d <= 12 else None,
                       rel_err=err if ours else 0.0, max_rank=max(y.ranks) if ours else "")


if __name__ == "__main__":
    main()
