"""Which shingles to use for dedup: the measurement behind `monitor.matching.dedup.SHINGLE`.

For each candidate kind (word 2/3/4-grams, character 4/5/6/7-grams without spaces) every doc of
the labelled set (tests/dedup_set.py: copies and hard negatives in English and Persian, rendered
into outlet templates and extracted) is fingerprinted, and every labelled pair judged with the
production thresholds. Reported per kind and language: pairwise precision and recall, the LSH
recall (does a copy share a band with its base article, the story's representative?) and the
margin between the weakest copy and the strongest negative.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from monitor.matching import dedup
from tests.dedup_set import labelled_docs, labelled_pairs

KINDS = ("w2", "w3", "w4", "c4", "c5", "c6", "c7")
RESULTS = Path(__file__).parent / "results"


def main() -> None:
    docs = labelled_docs()
    counts: Counter[tuple[int, int]] = Counter()
    for d in docs:
        for h in set(map(dedup.line_hash, dedup.paragraphs(d.text))):
            counts[(d.template, h)] += 1
    pairs = labelled_pairs(docs)
    th = dedup.Thresholds()
    rows = []
    for kind in KINDS:
        fps = {}
        for d in docs:
            common = {h for h in map(dedup.line_hash, dedup.paragraphs(d.text))
                      if counts[(d.template, h)] >= 3}
            fps[d.id] = dedup.fingerprint(d.text, common, shingle=kind)
        for lang in ("en", "fa", "all"):
            tally: dict[str, int] = defaultdict(int)
            weakest_copy, strongest_negative = 1.0, 0.0
            for a, b, label, _ in pairs:
                if lang != "all" and a.language != lang:
                    continue
                s = dedup.scores(fps[a.id], fps[b.id])
                verdict = s.is_copy(th)
                key = ("t" if verdict == label else "f") + ("p" if verdict else "n")
                tally[key] += 1
                strength = max(s.jaccard, s.containment, min(s.lead, s.containment + 0.25))
                if label:
                    weakest_copy = min(weakest_copy, strength)
                    if a.role == "base":
                        tally["lsh_pairs"] += 1
                        tally["lsh_hit"] += bool(set(fps[a.id].bands) & set(fps[b.id].bands))
                else:
                    strongest_negative = max(strongest_negative, strength)
            tp, fp, fn = tally["tp"], tally["fp"], tally["fn"]
            rows.append({
                "shingle": kind, "language": lang,
                "precision": round(tp / max(1, tp + fp), 3),
                "recall": round(tp / max(1, tp + fn), 3),
                "lsh_recall": round(tally["lsh_hit"] / max(1, tally["lsh_pairs"]), 3),
                "weakest_copy": round(weakest_copy, 2),
                "strongest_negative": round(strongest_negative, 2),
            })
    print(f"{'shingle':8}{'lang':6}{'precision':>10}{'recall':>8}{'lsh':>7}"
          f"{'weakest copy':>14}{'strongest neg':>15}")
    for r in rows:
        print(f"{r['shingle']:8}{r['language']:6}{r['precision']:>10}{r['recall']:>8}"
              f"{r['lsh_recall']:>7}{r['weakest_copy']:>14}{r['strongest_negative']:>15}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "shingles.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
