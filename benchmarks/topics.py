"""Topic judgement on real labelled news, per topic and language.

    python -m benchmarks.topics --data ../shared/relevance-dev [--stage all] [--own]

Every item goes through the analysis the pipeline runs (monitor.polling.analysis.analyse with the
item's language) and the gate the pipeline runs (monitor.matching.gate.Gate on the title and the
text's lead, with the item's language). Printed per topic and per language: TP, FP, FN, precision,
recall, the possible band (items kept as possible, of them positives), and the gate's misses
(positives it would never have downloaded). Ambiguous items are left out of scoring.

Stages (`--stage`): `rules` (the rules alone, as shipped before the model), `model` (the model
over text features alone), `combined` (the model with the rule-side features: what ships), or
`all` (the three, an ablation). The model's figures are by k-fold cross-validation (`--folds`,
stratified by language and labels, a story's items kept in one fold): the model judging an
item never saw it; what the training chooses by inner cross-validation (step, class weighting)
is chosen again inside each training fold, and printed. `--errors` prints the ids of the
misclassified items (their texts stay in the data folder; the JSON keeps only the counts).
`--own` also scores the project's written sets (tests/data) with the model trained on the real
set and the written dev set. Results go to benchmarks/results/topics.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from benchmarks import topic_model
from benchmarks.topic_model import Item
from monitor.matching import judge, topics
from monitor.matching.gate import Gate
from monitor.matching.topics import TopicsConfig
from monitor.polling.analysis import analyse

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
OWN_TRAIN = REPO / "tests" / "data" / "topics_dev.json"
OWN_TEST = [REPO / "tests" / "data" / "topics_test.json",
            REPO / "tests" / "data" / "topics_holdout.json"]

Counts = dict[str, Counter[str]]  # "topic|lang" -> tp, fp, fn, possible, possible_pos


def score_items(config: TopicsConfig, items: list[Item], counts: Counts,
                misses: Counter[str]) -> None:
    gate = Gate(config)
    for it in items:
        if it.ambiguous:
            continue
        a = analyse(config, it.title, it.text, it.language, it.language)
        got = {h.topic for h in a.topics if h.state == "match"}
        maybe = {h.topic for h in a.topics if h.state == "possible"}
        for t in config.names():
            for key in (f"{t}|{it.language}", f"{t}|all"):
                c = counts.setdefault(key, Counter())
                want = t in it.labels
                c["tp"] += want and t in got
                c["fp"] += (not want) and t in got
                c["fn"] += want and t not in got
                c["possible"] += t in maybe
                c["possible_pos"] += want and t in maybe
            if want != (t in got):  # the item's id (no text), for --errors
                misses[f"wrong|{t}|{'missed' if want else 'false'}|{it.id}"] = 1
        if it.labels:
            misses[f"positives|{it.language}"] += 1
            if gate.check(it.title, it.text, it.language) is None:
                misses[f"missed|{it.language}"] += 1
            first = it.text.split("\n")[0]  # the gate as called before: no language, first line
            if topics.gate(config, it.title, first) is None:
                misses[f"missed_before|{it.language}"] += 1


def table(counts: Counts) -> list[dict[str, object]]:
    rows = []
    for key in sorted(counts):
        topic, lang = key.split("|")
        c = counts[key]
        p = c["tp"] / max(1, c["tp"] + c["fp"])
        r = c["tp"] / max(1, c["tp"] + c["fn"])
        rows.append({"topic": topic, "language": lang, "tp": c["tp"], "fp": c["fp"],
                     "fn": c["fn"], "precision": round(p, 3), "recall": round(r, 3),
                     "possible": c["possible"], "possible_positives": c["possible_pos"]})
    return rows


def run_stage(config: TopicsConfig, items: list[Item], stage: str, k: int,
              cache: dict[tuple[str, bool], dict[str, judge.Features]],
              train_extra: list[Item], chosen: list[dict[str, tuple[float, float]]] | None = None,
              ) -> tuple[Counts, Counter[str]]:
    counts: Counts = {}
    misses: Counter[str] = Counter()
    if stage == "rules":
        score_items(replace(config, models=()), items, counts, misses)
        return counts, misses
    fold_of = topic_model.folds(items, k)
    for fold in range(k):
        train = [it for it, f in zip(items, fold_of, strict=True) if f != fold and not it.ambiguous]
        test = [it for it, f in zip(items, fold_of, strict=True) if f == fold]
        picked: dict[str, tuple[float, float]] = {}
        models = topic_model.train_all(config, train + train_extra, stage == "combined", cache,
                                       chosen=picked)
        if chosen is not None:
            chosen.append(picked)
        score_items(replace(config, models=tuple(models.items())), test, counts, misses)
    return counts, misses


def own_sets(config: TopicsConfig, models: dict[str, judge.Weights]) -> Counts:
    counts: Counts = {}
    items = [it for path in OWN_TEST for it in topic_model.load_own(path)]
    score_items(replace(config, models=tuple(models.items())), items, counts, Counter())
    return counts


def print_rows(title: str, rows: list[dict[str, object]], misses: Counter[str]) -> None:
    print(f"\n{title}")
    print(f"  {'topic':<11} {'lang':<4} {'TP':>4} {'FP':>4} {'FN':>4} {'P':>6} {'R':>6} "
          f"{'possible (pos.)':>16}")
    for r in rows:
        print(f"  {r['topic']!s:<11} {r['language']!s:<4} {r['tp']:>4} {r['fp']:>4} {r['fn']:>4} "
              f"{r['precision']:>6.3f} {r['recall']:>6.3f} "
              f"{r['possible']!s:>9} ({r['possible_positives']})")
    for lang in ("en", "fa"):
        n = misses[f"positives|{lang}"]
        if n:
            m = misses[f"missed|{lang}"]
            b = misses[f"missed_before|{lang}"]
            print(f"  gate misses {lang}: {m} of {n} positives ({100 * m / n:.1f} %); "
                  f"called as before (no language, first line): {b} ({100 * b / n:.1f} %)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "relevance-dev")
    ap.add_argument("--topics", type=Path, default=REPO / "config" / "topics.toml")
    ap.add_argument("--stage", choices=["rules", "model", "combined", "all"], default="all")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--own", action="store_true", help="also score the written sets (tests/data)")
    ap.add_argument("--out", type=Path, default=RESULTS / "topics.json")
    ap.add_argument("--errors", action="store_true",
                    help="also print the ids of the misclassified items, per topic")
    args = ap.parse_args(argv)
    loaded = topic_model.load_inputs(args.data, args.topics, "benchmarks.topics")
    if loaded is None:
        return 2
    items, config = loaded
    own_train = topic_model.load_own(OWN_TRAIN)
    print(f"{len(items)} items ({sum(it.ambiguous for it in items)} ambiguous, left out), "
          f"{len(set(topic_model.stories(items)))} story groups, {args.folds} folds")
    results: dict[str, object] = {"data": str(args.data), "folds": args.folds}
    cache: dict[tuple[str, bool], dict[str, judge.Features]] = {}
    stages = ["rules", "model", "combined"] if args.stage == "all" else [args.stage]
    for stage in stages:
        start = time.perf_counter()
        chosen: list[dict[str, tuple[float, float]]] = []
        counts, misses = run_stage(config, items, stage, args.folds, cache, own_train, chosen)
        rows = table(counts)
        print_rows(f"stage {stage}" + (" (cross-validated)" if stage != "rules" else ""),
                   rows, misses)
        if chosen:
            print(f"  chosen in the training folds (step, class weight power): {chosen}")
        wrong = sorted(k for k in misses if k.startswith("wrong|"))
        if args.errors:
            for key in wrong:
                print("  " + key.replace("|", " ", 3).removeprefix("wrong "))
        results[stage] = {"rows": rows, "chosen": chosen,
                          "gate": {k: v for k, v in misses.items() if not k.startswith("wrong|")},
                          "errors": {kind: sum(1 for k in wrong if k.split("|")[2] == kind)
                                     for kind in ("false", "missed")},
                          "seconds": round(time.perf_counter() - start, 1)}
    if args.own:
        real = [it for it in items if not it.ambiguous]
        models = topic_model.train_all(config, real + own_train, True, cache)
        rows = table(own_sets(config, models))
        print_rows("own written sets (topics_test + topics_holdout), model trained on all", rows,
                   Counter())
        results["own"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
