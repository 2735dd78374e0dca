"""Results of one `make bench` run: the stdout table, summary.json (merged), bench-run.json and the latency plot."""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenarios import Scenario

# Targets of the issue: (key fragment, check on the summary entry, description).
ALLELE_RATIO, ALLELE_P99_16, ALLELE_P99_64, EGA_FACTOR = 0.70, 10.0, 25.0, 20.0


@dataclass
class Row:
    name: str
    unit: str
    ours: list[float]
    ceiling: list[float]
    extra: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    met: bool | None = None
    in_summary: bool = True  # False: another script writes this key (the table only shows it)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.ceiling)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    builds: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the run is wrong (errors, answers differ): exit 1
    notes: list[str] = field(default_factory=list)  # worth knowing, not wrong

    def _keep(self, scenarios: list[Scenario]) -> None:
        for sc in scenarios:
            self.detail[sc.name] = {
                str(level): [
                    {
                        "rps": round(o.rps, 1),
                        "p50_ms": round(o.percentile_ms(0.5), 3),
                        "p99_ms": round(o.percentile_ms(0.99), 3),
                        "errors": o.errors,
                        "client_cpu": round(o.client_cpu, 2),
                    }
                    for o in outs
                ]
                for level, outs in sc.outcomes.items()
            }
            for outs in sc.outcomes.values():
                for o in outs:
                    if o.errors:
                        self.problems.append(f"{sc.name}: {o.errors} error(s), first: {o.first_error}")
                    if o.client_cpu > 0.9:
                        self.notes.append(f"{sc.name}: client process at {o.client_cpu:.0%} CPU (may be the limit)")

    @staticmethod
    def _p99(sc: Scenario, level: int) -> float:
        return _median([o.percentile_ms(0.99) for o in sc.outcomes[level]])

    def allele(self, scenarios: list[Scenario]) -> None:
        self._keep(scenarios)
        ceilings = {sc.name.split()[-1]: sc for sc in scenarios if sc.name.startswith("ceiling")}
        for sc in scenarios:
            if sc.name.startswith("ceiling"):
                continue
            _, granularity, method = sc.name.split()
            ceiling = ceilings[method]
            for level, outs in sc.outcomes.items():
                p99 = self._p99(sc, level)
                row = Row(
                    f"allele query {granularity} {method} c{level}",
                    "requests/s",
                    [o.rps for o in outs],
                    [o.rps for o in ceiling.outcomes[level]],
                    {
                        "p50_ms": round(_median([o.percentile_ms(0.5) for o in outs]), 3),
                        "p99_ms": round(p99, 3),
                        "ceiling_p99_ms": round(self._p99(ceiling, level), 3),
                        "errors": sum(o.errors for o in outs),
                    },
                )
                errors = row.extra["errors"] == 0
                if level == 16:
                    row.target = f"ratio >= {ALLELE_RATIO}, p99 <= {ALLELE_P99_16:g} ms"
                    row.met = row.ratio >= ALLELE_RATIO and p99 <= ALLELE_P99_16 and errors
                elif level == 64:
                    row.target = f"p99 <= {ALLELE_P99_64:g} ms"
                    row.met = p99 <= ALLELE_P99_64 and errors
                self.rows.append(row)

    def range(self, pair: list[Scenario], ega_rps: float) -> None:
        self._keep(pair)
        ceiling, ours = pair
        outs = ours.outcomes[16]
        extra = {
            "p50_ms": round(_median([o.percentile_ms(0.5) for o in outs]), 1),
            "p99_ms": round(self._p99(ours, 16), 1),
        }
        vs_sql = Row(
            "range 10 Mb count c16 vs raw SQL",
            "requests/s",
            [o.rps for o in outs],
            [o.rps for o in ceiling.outcomes[16]],
            extra,
        )
        ega = Row(
            "range 10 Mb count c16 vs EGA (peer anchor)",
            "requests/s",
            [o.rps for o in outs],
            [ega_rps],
            {**extra, "ceiling_is": "EGA production beacon's published 67 req/s (median 130 ms), another machine"},
            f"ratio >= {EGA_FACTOR:g}",
        )
        ega.met = ega.ratio >= EGA_FACTOR
        self.rows += [vs_sql, ega]

    def cohort(self, trio: list[Scenario]) -> None:
        self._keep(trio)
        ceiling, *ours = trio
        for sc in ours:
            outs = sc.outcomes[16]
            extra = {
                "p50_ms": round(_median([o.percentile_ms(0.5) for o in outs]), 2),
                "p99_ms": round(self._p99(sc, 16), 2),
            }
            method = sc.name.split()[-1]
            self.rows.append(
                Row(
                    f"cohort filtered count {method} c16 vs raw SQL",
                    "requests/s",
                    [o.rps for o in outs],
                    [o.rps for o in ceiling.outcomes[16]],
                    extra,
                )
            )

    def add_rates(self, name: str, ours: list[float], ceiling: list[float], unit: str) -> None:
        self.rows.append(Row(name, unit, ours, ceiling))

    def add_aggregator(self, name: str, entry: dict[str, Any], target_ms: float) -> None:
        """The aggregator bench's own summary entry (latencies: lower is better; its ratio is ceiling/ours)."""
        row = Row(
            name,
            entry["unit"],
            [entry["ours"]],
            [entry["ceiling"]],
            {"overhead_ms": entry["overhead"]},
            f"overhead {entry['overhead']:.2f} <= {target_ms:g} ms",
            entry["overhead"] <= target_ms,
            False,
        )
        self.rows.append(row)

    # -- output --------------------------------------------------------------------------------

    def summary(self) -> dict[str, dict[str, Any]]:
        return {
            r.name: {
                "ours": round(statistics.median(r.ours), 2),
                "ceiling": round(statistics.median(r.ceiling), 2),
                "ratio": round(r.ratio, 3),
                "unit": r.unit,
                "ours_min": round(min(r.ours), 2),
                "ours_max": round(max(r.ours), 2),
                **r.extra,
                **({"target": r.target, "met": r.met} if r.target else {}),
            }
            for r in self.rows
            if r.in_summary
        }

    def write(self, folder: Path) -> None:
        """Merge this run's keys into summary.json (keys others write stay), write bench-run.json and the plot."""
        path = folder / "summary.json"
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged.update(self.summary())
        path.write_text(json.dumps(merged, indent=2) + "\n")
        run = {
            "environment": self.environment,
            "builds": self.builds,
            "scenarios": self.detail,
            "problems": self.problems,
            "notes": self.notes,
        }
        (folder / "bench-run.json").write_text(json.dumps(run, indent=1) + "\n")
        note = plot(self.detail, folder / "latency-vs-concurrency.png")
        if note:
            self.notes.append(note)

    def table(self) -> str:
        head = (
            f"{'benchmark':48} {'unit':11} {'min':>9} {'median':>9} {'max':>9} {'ceiling':>9} {'ratio':>6} "
            f"{'p99 ms':>7}  target"
        )
        lines = [head, "-" * len(head)]
        for r in self.rows:
            p99 = r.extra.get("p99_ms")
            verdict = "" if r.met is None else (" ok" if r.met else " MISSED")
            ours, ceiling = statistics.median(r.ours), statistics.median(r.ceiling)
            # Rows another script owns are latencies in ms: decimals matter, and lower is better.
            f, unit, ratio = (".0f", r.unit, r.ratio) if r.in_summary else (".2f", "ms", ceiling / ours)
            lines.append(
                f"{r.name:48} {unit:11} {min(r.ours):9{f}} {ours:9{f}} {max(r.ours):9{f}} {ceiling:9{f}} {ratio:6.2f} "
                f"{'' if p99 is None else f'{p99:7.2f}':>7}  {r.target}{verdict}"
            )
        return "\n".join(lines)


def parse_vcf_ingest(stdout: str, wanted: tuple[str, str]) -> tuple[float, float] | None:
    """(ceiling, ours) records/s from bench/vcf_ingest.py's table: the first number on the lines naming them."""
    found = []
    for fragment in wanted:
        line = next((ln for ln in stdout.splitlines() if fragment in ln), None)
        number = re.search(r"\s(\d+(?:\.\d+)?)(?:\s|$)", line[len(fragment) :] if line else "")
        if number is None:
            return None
        found.append(float(number.group(1)))
    return found[0], found[1]


def plot(detail: dict[str, Any], out: Path) -> str:
    """p50 and p99 latency against concurrency per allele scenario; a note instead when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install -e '.[bench]'): no latency plot"
    series = [(name, levels) for name, levels in detail.items() if len(levels) > 1]
    if not series:  # the allele section was skipped: keep the last plot
        return ""
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    for n, (name, levels) in enumerate(series):
        xs = sorted(int(level) for level in levels)
        for q, style in (("p50_ms", "-"), ("p99_ms", "--")):
            ys = [statistics.median(run[q] for run in levels[str(x)]) for x in xs]
            ax.plot(xs, ys, style, color=f"C{n}", marker="o", label=name if q == "p50_ms" else None)
        ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("concurrent connections")
    ax.set_ylabel("latency (ms, median of runs): p50 solid, p99 dashed")
    ax.set_title("Allele queries: beacon vs bare aiohttp + one raw SQLite lookup, same run")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return ""
