"""Entanglement entropy at every bond of an MPS given by arbitrary cores: tnlib's
``tt.entanglement_entropy`` against quimb and TeNPy.

A random real MPS of 100 sites of dimension 2 at bond dimension 64, its cores in no
canonical form. tnlib: one QR sweep and one SVD sweep. quimb 1.16: ``mps.entropy(i,
info=info)`` for every bond, the ``info`` dict carrying the orthogonality centre from one
bond to the next (quimb's way of sweeping). TeNPy 1.1: ``MPS.from_Bflat(..., form=None)``,
``canonical_form()``, then ``entanglement_entropy()``. ``max_diff`` is the largest
difference from tnlib's entropies (in nats; quimb's log2 values converted).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

SITES, BOND = 100, 64


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_spectrum", "Entanglement entropy at every bond of an MPS")
    x = tt.random((2,) * SITES, BOND, seed=0)
    x = x / x.norm()
    cores = [np.asarray(c) for c in x.cores]
    cands = {"tnlib entanglement_entropy": lambda: tt.entanglement_entropy(x)}
    convert = {"tnlib entanglement_entropy": lambda out: np.asarray(out)}
    qtn = _peers.load("quimb")
    if qtn is not None:
        arrays = [c[0].T if k == 0 else c[:, :, 0] if k == SITES - 1 else
                  np.transpose(c, (0, 2, 1)) for k, c in enumerate(cores)]

        def quimb_entropies():
            mps = qtn.MatrixProductState(arrays, shape="lrp")
            info: dict = {}
            return [mps.entropy(i, info=info) for i in range(1, SITES)]

        cands["quimb entropy per bond"] = quimb_entropies
        convert["quimb entropy per bond"] = lambda out: np.asarray(out) * np.log(2.0)
    tenpy = _peers.load("tenpy")
    if tenpy is not None:
        from tenpy.networks.mps import MPS
        from tenpy.networks.site import SpinHalfSite

        sites = [SpinHalfSite(conserve=None)] * SITES
        bflat = [np.transpose(c, (1, 0, 2)) for c in cores]

        def tenpy_entropies():
            psi = MPS.from_Bflat(sites, bflat, bc="finite", form=None)
            psi.canonical_form()
            return psi.entanglement_entropy()

        cands["tenpy canonical_form + entropy"] = tenpy_entropies
        convert["tenpy canonical_form + entropy"] = lambda out: np.asarray(out)
    timing = _harness.interleaved(cands, repeats)
    ours = np.asarray(tnlib.to_numpy(cands["tnlib entanglement_entropy"]()))
    for key, stats in timing.items():
        got = convert[key](cands[key]())
        report.add(f"MPS, {SITES} sites, bond {BOND}", key, stats,
                   baseline="quimb entropy per bond" if qtn else None,
                   max_diff=float(np.abs(got - ours).max()),
                   mid_entropy=float(got[SITES // 2 - 1]))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
