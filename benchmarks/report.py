"""Write ``results/REPORT.md`` from the JSON results of the benchmarks.

    cd benchmarks && python report.py    # also run at the end of `make bench`

For every benchmark: where and when it ran, then per workload one table with each
candidate (tnlib on each backend, each peer library or reference), its median and range,
and its time as a multiple of the fastest peer's; below the tables, the benchmark's plot
(times on a shared axis per workload, from zero or on a log axis marked as such, tnlib in
orange).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from _harness import fmt_time

RESULTS = Path(__file__).resolve().parent / "results"
SKIP_COLUMNS = {"workload", "candidate", "median", "min", "max", "runs", "baseline"}


def _time(seconds: float | None) -> str:
    return "-" if seconds is None or not math.isfinite(seconds) else fmt_time(seconds)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value).replace("|", "\\|")


def _is_tnlib(candidate: str) -> bool:
    return "tnlib" in candidate


def workload_table(rows: list[dict]) -> list[str]:
    """Markdown lines of one workload's table."""
    peers = [r["median"] for r in rows if not _is_tnlib(r["candidate"]) and r.get("median")]
    fastest_peer = min(peers) if peers else None
    extras = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in SKIP_COLUMNS]
    header = ["candidate", "median", "min – max", "vs fastest peer", *extras]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in sorted(rows, key=lambda r: (not _is_tnlib(r["candidate"]), r["median"])):
        name = f"**{r['candidate']}**" if _is_tnlib(r["candidate"]) else r["candidate"]
        ratio = (f"{r['median'] / fastest_peer:.2f}x" if fastest_peer else "no peer")
        cells = [name, _time(r["median"]), f"{_time(r['min'])} – {_time(r['max'])}", ratio,
                 *(_cell(r.get(k, "")) for k in extras)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def benchmark_section(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    meta = data.get("meta", {})
    rows = data.get("rows", [])
    where = ", ".join(f"{k} {v}" for k, v in meta.items() if v not in (None, ""))
    lines = [f"## {data.get('title', path.stem)}", "",
             f"`benchmarks/{path.stem}.py` — {where}", ""]
    for w in dict.fromkeys(r["workload"] for r in rows):
        lines += [f"### {w}", "", *workload_table([r for r in rows if r["workload"] == w]),
                  ""]
    if (path.with_suffix(".png")).exists():
        lines += [f"![{data.get('title', path.stem)}]({path.stem}.png)", ""]
    return lines


def write(results: Path = RESULTS) -> Path:
    """Write ``REPORT.md`` next to the JSON files and return its path."""
    files = sorted(p for p in results.glob("*.json") if p.stem not in ("gpu", "launches"))
    lines = [
        "# tnlib benchmark report", "",
        "Median wall-clock times over repeated runs, candidates interleaved, one BLAS "
        "thread, on the machine named under each benchmark. **Bold** rows are tnlib (one "
        "per backend); the others are peer libraries or plain reference code, called as "
        "`PEERS.md` describes. *vs fastest peer* is the median divided by the fastest "
        "non-tnlib median of the same workload: below 1.00x, tnlib is faster. Extra "
        "columns (errors, ranks, evaluation counts) say what each candidate achieved, so "
        "that times compare equal work.", "",
        "Contents: " + ", ".join(f"[{json.loads(p.read_text()).get('title', p.stem)}]"
                                 f"(#{_anchor(json.loads(p.read_text()).get('title', p.stem))})"
                                 for p in files), "",
    ]
    for path in files:
        lines += benchmark_section(path)
    out = results / "REPORT.md"
    out.write_text("\n".join(lines).rstrip() + "\n")
    return out


def _anchor(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in " -_" else "" for c in title.lower())
    return keep.strip().replace(" ", "-")


if __name__ == "__main__":
    print(f"wrote {write()}")
