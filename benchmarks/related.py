"""Related coverage on the labelled set (tests/related_set.py): pairwise precision and recall per
kind for rewrites (the dedup verdict, `dedup.judge`) and for related links (same event in one
language, fa<->en), with the cost per topic-passing item; and the real fa/en seed pair
(../shared/seeds/000 and 001, read at run time when present, never copied).

    .venv/bin/python -m benchmarks.related [--no-model] [--subset N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from monitor.matching import dedup, embed, related, verify
from monitor.matching.text import guess_language
from storage.records import Fingerprint, LinkCandidate, RelatedFeatures
from tests.related_set import Doc, Pair, related_docs, related_pairs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", ROOT.parents[1] / "shared" / "seeds")
              if p.is_dir()), ROOT.parent / "shared" / "seeds")
WINDOW_H = 36.0


@dataclass(frozen=True)
class Scores:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self, name: str) -> str:
        return (f"{name:<12} P {self.precision:.3f}  R {self.recall:.3f}  "
                f"(tp={self.tp} fp={self.fp} fn={self.fn})")


def rewrites(docs: dict[str, Doc], pairs: list[Pair], verified: bool = True) -> Scores:
    """Pairwise: is b a copy of a? Positives: rewrites; negatives: every other same-language
    pair (background reuse, same event in other words, hard negatives)."""
    fps = {k: dedup.fingerprint(d.text) for k, d in docs.items()}
    tp = fp = fn = 0
    for p in pairs:
        a, b = docs[p.a], docs[p.b]
        if a.language != b.language:
            continue
        if verified:
            copy = dedup.judge(fps[p.a], fps[p.b], a.text, b.text) is not None
        else:
            copy = dedup.scores(fps[p.a], fps[p.b]).is_copy(dedup.Thresholds())
        label = p.kind == "rewrite"
        tp, fp, fn = tp + (copy and label), fp + (copy and not label), fn + (label and not copy)
    return Scores(tp, fp, fn)


def link_pool(docs: list[Doc], use_model: bool,
              linker: related.Linker = related.LINKER) -> tuple[set[frozenset[str]], float]:
    """Stream the docs in publication order as the store would (a rewrite joins its source's
    story, so it is not a new story); returns the linked doc pairs and ms per item."""
    pool: list[tuple[Doc, RelatedFeatures]] = []
    linked: set[frozenset[str]] = set()
    started = time.perf_counter()
    index: dict[str, int] = {}
    for d in sorted((d for d in docs if d.role != "rw"), key=lambda d: d.hour):
        f = related.features(d.title, d.text, d.language, use_model=use_model)
        window = [(o, of) for o, of in pool if d.hour - o.hour <= WINDOW_H]
        for o, _ in window:
            index.setdefault(o.id, len(index))
        cands = [LinkCandidate(index[o.id], 0, o.id, "", of) for o, of in window]
        for decision in linker.link(f, cands):
            other = next(o for o, _ in window if index[o.id] == decision.other_story_id)
            linked.add(frozenset((d.id, other.id)))
        pool.append((d, f))
    ms = (time.perf_counter() - started) * 1000 / max(1, len(pool))
    return linked, ms


def link_scores(docs: list[Doc], pairs: list[Pair], linked: set[frozenset[str]]) -> dict[str,
                                                                                         Scores]:
    """Per kind: a labelled pair is predicted related if its stories are linked directly or
    through one another (the links an analyst sees); every link between two events is a false
    positive of the kind it was made as."""
    comp = _components({d.id for d in docs}, linked)
    out: dict[str, Counter[str]] = {"same_event": Counter(), "translation": Counter()}
    for p in pairs:
        yes = comp[p.a] == comp[p.b]
        if p.kind in out:
            out[p.kind]["tp" if yes else "fn"] += 1
    # the hard negative is an event of its own, told in both languages
    event = {d.id: d.event + ("/neg" if d.role == "neg" else "") for d in docs}
    lang = {d.id: d.language for d in docs}
    for pair in linked:
        a, b = sorted(pair)
        if event[a] != event[b]:
            out["translation" if lang[a] != lang[b] else "same_event"]["fp"] += 1
    return {k: Scores(v["tp"], v["fp"], v["fn"]) for k, v in out.items()}


def _components(ids: set[str], edges: set[frozenset[str]]) -> dict[str, str]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for e in edges:
        a, b = sorted(e)
        parent[find(a)] = find(b)
    return {i: find(i) for i in ids}


def seeds(use_model: bool) -> str:
    files = sorted(SEEDS.glob("00[01]_*.txt"))
    if len(files) < 2:
        return "seeds: ../shared/seeds not present, skipped"
    texts = [f.read_text(encoding="utf-8") for f in files[:2]]
    a, b = (t.split("\n", 1) for t in texts)
    fa, fb = dedup.fingerprint(a[1]), dedup.fingerprint(b[1])
    copy = dedup.judge(fa, fb, a[1], b[1]) is not None
    ra = related.features(a[0], a[1], guess_language(a[1], "en"), use_model=use_model)
    rb = related.features(b[0], b[1], guess_language(b[1], "en"), use_model=use_model)
    decision = related.LINKER.link(rb, [LinkCandidate(1, 1, "a", "", ra)])
    return (f"seeds 000/001: languages {ra.language}/{rb.language}; one story: {copy}; "
            f"linked: {[(d.kind, round(d.score, 3), d.evidence) for d in decision]}")


def run(use_model: bool = True, subset: int | None = None) -> list[str]:
    docs = list(related_docs())
    if subset:
        keep = sorted({d.event for d in docs})[:subset]
        docs = [d for d in docs if d.event in keep]
    by_id = {d.id: d for d in docs}
    pairs = [p for p in related_pairs(tuple(docs))]
    model = use_model and embed.available()
    lines = [f"{len(pairs)} labelled pairs, {len(docs)} docs; model: "
             f"{embed.MODEL if model else 'none'}"]
    lines.append(rewrites(by_id, pairs).line("rewrite"))
    lines.append(rewrites(by_id, pairs, verified=False).line("rewrite/old"))
    linked, ms = link_pool(docs, model)
    for kind, s in link_scores(docs, pairs, linked).items():
        lines.append(s.line(kind))
    lines.append(f"cost per topic-passing item (features + linking): {ms:.1f} ms")
    lines.append(seeds(model))
    return lines


def dedup_set() -> list[str]:
    """The wire-copy set (tests/dedup_set.py), pairwise: the estimates alone and the verdict."""
    import importlib

    from tests.dedup_set import labelled_docs, labelled_pairs

    docs = labelled_docs()  # the test's own boilerplate model (a test module: not type-checked)
    boiler = importlib.import_module("tests.test_dedup")._template_boilerplate(docs)
    fps = {d.id: dedup.fingerprint(d.text, boiler[d.template]) for d in docs}
    old, new = Counter[str](), Counter[str]()
    for a, b, label, _ in labelled_pairs(docs):
        for counts, copy in (
                (old, dedup.scores(fps[a.id], fps[b.id]).is_copy(dedup.Thresholds())),
                (new, dedup.judge(fps[a.id], fps[b.id], _shingled(fps[a.id]),
                                  _shingled(fps[b.id])) is not None)):
            counts["tp" if copy and label else "fp" if copy else "fn" if label else "tn"] += 1
    return [Scores(c["tp"], c["fp"], c["fn"]).line(name)
            for name, c in (("wire/old", old), ("wire/verdict", new))]


def _shingled(fp: Fingerprint) -> verify.Shingled:
    """The text as the matcher verifies it: the outlet's boilerplate paragraphs left out."""
    return verify.Shingled.of_blob(fp.shingled)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--subset", type=int)
    args = ap.parse_args(argv)
    lines = run(not args.no_model, args.subset)
    if not args.subset:
        lines += dedup_set()
        if not args.no_model and embed.available():
            lines += ["without the model:", *run(False)[3:6]]
    for line in lines:
        print(line)
    out = ROOT / "benchmarks" / "results" / "related.txt"
    if not args.subset and out.parent.is_dir():
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
