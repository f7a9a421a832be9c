"""Figures and their report: summary statistics, one line per benchmark on the terminal,
and bench/results/latest.json plus latest.md (a Markdown table)."""

import json
import math
import statistics
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SHORT_SAMPLE = 20  # up to this many samples the spread shown is min–max, past it p5–p95


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def figures(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values), "mean": statistics.fmean(values), "median": statistics.median(values),
        "min": min(values), "max": max(values),
        **{f"p{q}": percentile(values, q) for q in (5, 50, 95, 99)},
    }


def result(*, id: str, title: str, unit: str, ours: list[float], baseline: list[float],
           baseline_label: str, figure: str = "median", higher_is_better: bool = False,
           target: str, met: bool | None, notes: list[str] = (), extra: dict | None = None) -> dict:
    """One benchmark's outcome. `figure` names the statistic compared ("median", "mean",
    "p50", "p95"); the ratio is dindweb's over the baseline's."""
    ours_f, base_f = figures(ours), figures(baseline)
    ratio = None
    if ours_f.get(figure) is not None and base_f.get(figure):
        ratio = ours_f[figure] / base_f[figure]
    return {"id": id, "title": title, "unit": unit, "figure": figure,
            "higher_is_better": higher_is_better, "ours": ours_f, "baseline": base_f,
            "baseline_label": baseline_label, "ratio": ratio, "target": target, "met": met,
            "notes": list(notes), "extra": extra or {}}


def skipped(*, id: str, title: str, reason: str) -> dict:
    return {"id": id, "title": title, "skipped": reason, "met": None, "notes": [reason]}


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cell(f: dict, figure: str, unit: str) -> str:
    """'0.71 s (0.65–0.80)'; percentile figures show the neighbouring one instead."""
    if not f.get("n"):
        return "–"
    if figure == "p95":
        return f"p95 {_number(f['p95'])} {unit} (p50 {_number(f['p50'])})"
    if figure == "p50":
        return f"p50 {_number(f['p50'])} {unit}, p99 {_number(f['p99'])}"
    low, high = ("min", "max") if f["n"] <= SHORT_SAMPLE else ("p5", "p95")
    return f"{_number(f[figure])} {unit} ({_number(f[low])}–{_number(f[high])})"


def _verdict(met) -> str:
    return {True: "met", False: "MISSED", None: "–"}[met]


def line(r: dict) -> str:
    """One line for the terminal."""
    if r.get("skipped"):
        return f"{r['id']}: skipped: {r['skipped']}"
    ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "–"
    return (f"{r['id']}: dindweb {cell(r['ours'], r['figure'], r['unit'])} · {r['baseline_label']}"
            f" {cell(r['baseline'], r['figure'], r['unit'])} · ratio {ratio} · target {r['target']}:"
            f" {_verdict(r['met'])}")


def markdown(meta: dict, results: list[dict]) -> str:
    rows = ["| benchmark | dindweb | bare docker | ratio | target | verdict |",
            "| --- | --- | --- | --- | --- | --- |"]
    notes = []
    for r in results:
        if r.get("skipped"):
            rows.append(f"| {r['title']} | – | – | – | – | skipped |")
            notes.append(f"- {r['title']}: {r['skipped']}.")
            continue
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "–"
        rows.append(f"| {r['title']} | {cell(r['ours'], r['figure'], r['unit'])} | "
                    f"{cell(r['baseline'], r['figure'], r['unit'])} | {ratio} | {r['target']} |"
                    f" {_verdict(r['met'])} |")
        notes += [f"- {r['title']}:"] + [f"  - {note}." for note in r["notes"]]
    parameters = ", ".join(f"{key} {value}" for key, value in meta["parameters"].items())
    head = [
        f"Run of {meta['date']} on {meta['machine']}; dindweb at {meta['commit']}; {meta['duration']}.",
        "",
        f"Parameters: {parameters}.",
        "",
        *([f"**Incomplete**: {meta['incomplete']}.", ""] if meta.get("incomplete") else []),
        "Each cell: the figure compared, then its spread (min–max; p5–p95 past "
        f"{SHORT_SAMPLE} samples). The ratio is dindweb's figure over bare docker's, measured in the"
        " same run, alternating between the two sides.",
        "",
    ]
    return "\n".join(head + rows + ([""] + notes if notes else [])) + "\n"


def write(meta: dict, results: list[dict], out_dir: Path = RESULTS_DIR, name: str = "latest") -> tuple[Path, Path]:
    """`name`: "latest" for a run of every benchmark; a partial run is written beside it
    ("lab-latest") so that it never replaces the full set of figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(json.dumps({**meta, "results": results}, indent=2) + "\n")
    md_path.write_text(markdown(meta, results))
    return json_path, md_path
