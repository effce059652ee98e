"""Headline figures of `make bench`, before and after: the committed results of an earlier run
(`benchmarks/results/before/`, the run whose test servers still stalled each keep-alive
response on Nagle's algorithm, see SUMMARY.md) next to the current ones, with their ratio.

Each figure is named by its results file and a path into the JSON; a figure missing from either
side shows as a dash (a benchmark added since has no "before").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"

# (label, results file, path into the JSON, unit); a median dict shows its min and max too
FIGURES: list[tuple[str, str, str, str]] = [
    ("e2e heavy, 0 ms: monitor", "e2e", "latencies/0ms/monitor_articles_per_s", "art/s"),
    ("e2e heavy, 0 ms: ratio to naive", "e2e", "latencies/0ms/ratio_to_naive", "x"),
    ("e2e heavy, 100 ms: ratio to naive", "e2e", "latencies/100ms/ratio_to_naive", "x"),
    ("e2e heavy, 500 ms: ratio to naive", "e2e", "latencies/500ms/ratio_to_naive", "x"),
    ("e2e heavy, 0 ms: main CPU per article", "e2e",
     "latencies/0ms/cpu_ms_per_article/main", "ms"),
    ("e2e heavy, 0 ms: workers CPU per article", "e2e",
     "latencies/0ms/cpu_ms_per_article/workers", "ms"),
    ("e2e heavy: fraction of the CPU floor", "e2e", "monitor_fraction_of_floor", ""),
    ("e2e demo, 0 ms: ratio to naive", "e2e_demo", "latencies/0ms/ratio_to_naive", "x"),
    ("e2e demo, 100 ms: ratio to naive", "e2e_demo", "latencies/100ms/ratio_to_naive", "x"),
    ("e2e demo, 500 ms: ratio to naive", "e2e_demo", "latencies/500ms/ratio_to_naive", "x"),
    ("e2e demo: fraction of the CPU floor", "e2e_demo", "monitor_fraction_of_floor", ""),
    ("extraction, pool of 2 / in-process", "extraction", "ratio_pool_2_to_baseline", "x"),
    ("analysis per article, rules + model", "analysis_cost", "combined/median_ms", "ms"),
    ("analysis per article, rules alone", "analysis_cost", "rules/median_ms", "ms"),
    ("steady state 1000 sources, 304 cycle CPU", "steady_state", "304/cpu_s", "s"),
    ("steady state 1000 sources, new-entry cycle CPU", "steady_state", "new/cpu_s", "s"),
    ("dedup lookup + insert at 1M items", "dedup_index", "results/2/per_item_ms", "ms"),
    ("search at 100k, selective (defector)", "search", "selective/defector/median_ms", "ms"),
    ("search at 100k, commonest (iran)", "search", "most_common_iran/median_ms", "ms"),
    ("memory over 10,000 articles, peak PSS", "memory", "peak_pss_mib", "MiB"),
    ("alert latency, median", "alert_latency", "median", "s"),
    ("reader at 100k, story list", "web", "pages/story_list/median_ms", "ms"),
    ("reader at 100k, story page", "web", "pages/story_page/median_ms", "ms"),
    ("reader at 100k, selective search", "web", "pages/search_selective/median_ms", "ms"),
]


def _get(data: Any, path: str) -> Any:
    for key in path.split("/"):
        if isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        elif isinstance(data, dict) and key in data:
            data = data[key]
        else:
            return None
    return data


def _load(folder: Path, name: str) -> Any:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _median(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("median")
    return float(value) if isinstance(value, (int, float)) else None


def _shown(value: Any) -> str:
    if isinstance(value, dict) and "median" in value:
        return f"{value['median']:g} ({value.get('min', '?'):g}-{value.get('max', '?'):g})"
    return "-" if value is None else f"{value:g}"


def rows(before_dir: Path = RESULTS / "before", after_dir: Path = RESULTS) -> list[str]:
    """The markdown table of every figure, before and after."""
    out = ["| figure | unit | before | after | after / before |", "|---|---|---|---|---|"]
    for label, name, path, unit in FIGURES:
        old = _get(_load(before_dir, name), path)
        new = _get(_load(after_dir, name), path)
        if old is None and new is None:
            continue
        a, b = _median(old), _median(new)
        ratio = f"{b / a:.2f}" if a and b is not None else "-"
        out.append(f"| {label} | {unit} | {_shown(old)} | {_shown(new)} | {ratio} |")
    return out
