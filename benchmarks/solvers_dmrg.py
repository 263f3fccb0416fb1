"""Two-site DMRG on the open spin-1/2 Heisenberg chain, L = 100, against quimb's DMRG2.

Bond dimensions 64 and 128, one run each (they take seconds to a minute), in
one process. Reference ground-state energy: -44.1277399 (L = 100).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import time  # noqa: E402
import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

L, REFERENCE = 100, -44.1277399


def heisenberg(backend):
    sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    return tt.nearest_neighbor(L, pair=[(0.5, sp, sp.T), (0.5, sp.T, sp), (1.0, sz, sz)],
                               backend=backend)


def main() -> _harness.Report:
    _harness.configure_frameworks()
    warnings.simplefilter("ignore")
    report = _harness.Report("solvers_dmrg", f"DMRG, Heisenberg chain L={L}")
    quimb = _peers.load("quimb")
    for bond in (64, 128):
        runs = {}
        for name in ("numpy", "torch"):
            if name in tnlib.available_backends():
                h = heisenberg(name)
                runs[f"tnlib {name}"] = lambda h=h: float(tnlib.to_numpy(tt.dmrg_eig(
                    h, max_rank=bond, eps=1e-10, tol=1e-9, max_sweeps=30, seed=0)[0]))
        if quimb is not None:
            def run_quimb(bond=bond):
                dmrg = quimb.DMRG2(quimb.MPO_ham_heis(L), bond_dims=[16, 32, bond],
                                   cutoffs=1e-10)
                dmrg.solve(tol=1e-9, verbosity=0, max_sweeps=30)
                return float(np.real(dmrg.energy))
            runs["quimb DMRG2"] = run_quimb
        for name, fn in runs.items():
            t0 = time.perf_counter()
            energy = fn()
            seconds = time.perf_counter() - t0
            report.add(f"bond dimension {bond}", name, _harness.stats([seconds]),
                       baseline="quimb DMRG2" if quimb else None, energy=f"{energy:.10f}",
                       error_vs_reference=energy - REFERENCE)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
