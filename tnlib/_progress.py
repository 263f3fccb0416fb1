"""One report per sweep for the iterative methods: a printed line, a progress bar, the callback.

Every iterative method (cross, AMEn, DMRG, TDVP, CP-ALS, HOOI, the Riemannian optimizers)
builds a :class:`Reporter` from its ``verbose``, ``progress`` and ``callback`` arguments and
hands it the info record after each sweep, with the line a user watches. ``verbose`` prints
the line, ``progress=True`` draws a tqdm bar (an optional dependency, imported only then)
whose postfix is the same line, and ``callback(info)`` gets the record. All are off by default.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .errors import ArgumentError


class Reporter:
    """Sends each sweep's record to the printed line, the progress bar and the callback.

    Parameters
    ----------
    where : str
        Name of the calling function, the prefix of every line and the bar's label.
    total : int or None
        Upper bound on the number of reports (``max_sweeps``, ``max_iter``), for the bar.
    verbose, progress : bool
        Print one line per report; draw a tqdm progress bar.
    callback : callable or None
        Called as ``callback(info)`` after each report.
    """

    def __init__(self, where: str, total: int | None, verbose: Any = False,
                 progress: Any = False, callback: Callable | None = None) -> None:
        self.bar = None
        if callback is not None and not callable(callback):
            raise ArgumentError(f"{where}: callback must be callable, got "
                                f"{type(callback).__name__}")
        self.where, self.verbose, self.callback = where, bool(verbose), callback
        self.bar = _bar(where, total) if progress else None

    def __call__(self, info: Any, line: str | None = None) -> None:
        if line is not None:
            if self.verbose:
                print(f"{self.where} {line}", flush=True)
            if self.bar is not None:
                self.bar.set_postfix_str(" ".join(line.split()), refresh=False)
        if self.bar is not None:
            self.bar.update(1)
        if self.callback is not None:
            self.callback(info)

    def note(self, line: str) -> None:
        """A line that is not a sweep (a rank increase, a restart): printed when verbose."""
        if self.verbose:
            print(f"{self.where}: {line}", flush=True)

    def close(self) -> None:
        """Finish the bar (idempotent)."""
        if getattr(self, "bar", None) is not None:
            if self.bar.total is not None and self.bar.n < self.bar.total:
                self.bar.total = self.bar.n  # stopped early (converged): show it complete
                self.bar.refresh()
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def _bar(where: str, total: int | None) -> Any:
    try:
        tqdm = importlib.import_module("tqdm.auto").tqdm
    except ImportError as exc:
        raise ArgumentError(f"{where}: progress=True draws a tqdm progress bar, but tqdm is "
                            "not installed; pip install tqdm (or tnlib[progress])") from exc
    return tqdm(total=total, desc=where, unit="sweep", leave=True, dynamic_ncols=True)
