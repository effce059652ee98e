"""Cost of the text analysis per article (monitor.polling.analysis.analyse: language, search forms,
agency, topics with the model, fingerprint) on the benchmark pages of real weight, and the
memory the topic model adds to a process.

    python -m benchmarks.analysis_cost [--pages heavy|demo] [--repeats 5]

Each page is extracted once (not timed); then every article is analysed `--repeats` times with
the shipped topics and weights and with the rules alone (no model), in turns. Reported: the median
per article of each run, with min and max over runs; RSS before and after loading the weights
and after the analyses (the weights' pages read, the feature-name cache filled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.extraction import RESULTS, article_pages
from monitor.configuration.sources import load_topics
from monitor.matching import embed, judge
from monitor.matching.topics import TopicsConfig
from monitor.parsing.extract import extract_article
from monitor.polling.analysis import analyse

REPO = Path(__file__).resolve().parent.parent


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def per_article(configs: list[TopicsConfig], texts: list[tuple[str, str]],
                repeats: int) -> list[list[float]]:
    """The median CPU milliseconds per article of each run, per configuration; the configurations
    take turns on each article, so that the machine's load falls on all alike."""
    out: list[list[float]] = [[] for _ in configs]
    for _ in range(repeats):
        times: list[list[float]] = [[] for _ in configs]
        for title, text in texts:
            for i, config in enumerate(configs):
                start = time.process_time()
                analyse(config, title, text, "en")
                times[i].append((time.process_time() - start) * 1000)
        for i, t in enumerate(times):
            out[i].append(statistics.median(t))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", choices=["heavy", "demo"], default="heavy")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--related-model", action="store_true",
                    help="keep the optional multilingual model (the [related] extra) if "
                         "installed; by default it is left out, as in the base install "
                         "(its cost per item is measured by benchmarks.related)")
    args = ap.parse_args(argv)
    if not args.related_model:
        embed._model = lambda: None  # type: ignore[assignment]  # the base install's analysis
    texts = []
    for url, html in article_pages(args.pages):
        extracted = extract_article(html, url)
        if extracted is not None and extracted.text:
            texts.append((extracted.title or "", extracted.text))
    before = rss_kib()
    config = load_topics(REPO / "config" / "topics.toml", [])
    after = rss_kib()
    results = {"pages": args.pages, "articles": len(texts),
               "related_model": embed.available(),
               "model_rss_mib": round((after - before) / 1024, 1)}
    names = ("combined", "rules")
    measured = per_article([config, replace(config, models=())], texts, args.repeats)
    for name, runs in zip(names, measured, strict=True):
        results[name] = {"median_ms": round(statistics.median(runs), 3),
                         "min_ms": round(min(runs), 3), "max_ms": round(max(runs), 3)}
        print(f"{name}: {len(texts)} articles, median per article {statistics.median(runs):.2f} "
              f"ms (runs: min {min(runs):.2f}, max {max(runs):.2f})")
    results["rss_growth_mib"] = round((rss_kib() - before) / 1024, 1)
    print(f"topics with weights loaded: RSS +{results['model_rss_mib']} MiB; after every "
          f"analysis (weights read, feature cache {len(judge._CACHE)} names): "
          f"+{results['rss_growth_mib']} MiB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "analysis_cost.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
