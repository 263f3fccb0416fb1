"""The DFT of a signal in QTT format (``tt.qtt_fft``) against NumPy's dense FFT.

No peer library in Python has a QTT Fourier transform (TT-Toolbox's ``qtt_fft1`` is
MATLAB), so the reference is ``numpy.fft.fft`` (pocketfft) of the dense vector, given
ready in memory. The signal is a Gaussian-modulated cosine, ``exp(-((t - 1/2)/0.05)^2)
cos(600 pi t)`` on ``N = 2^d`` points of [0, 1), whose QTT (by cross, not timed) has rank
18 and whose spectrum rank 10. tnlib's row is QTT in, QTT out, eps 1e-10; ``rel_err`` is
against the dense FFT where it fits in memory (2^20, 2^24), and against the continuous
transform (N times it, at seven frequencies) beyond.
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
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
