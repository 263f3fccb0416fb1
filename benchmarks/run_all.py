"""Run every benchmark (or those named on the command line) and save their results.

    make bench                      # everything
    make bench BENCH="tt_round tt_dot"

Then writes ``results/REPORT.md`` from all the JSON results (``report.py``).
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALL = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_")
             and p.stem not in ("run_all", "gpu", "report"))  # gpu.py needs a CUDA device


def main(names: list[str]) -> int:
    for name in names or ALL:
        t0 = time.perf_counter()
        print(f"\n=== {name}")
        importlib.import_module(name).main()
        print(f"=== {name} done in {time.perf_counter() - t0:.0f} s")
    print(f"\nwrote {importlib.import_module('report').write()}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
