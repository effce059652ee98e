"""`make train`: fit the topic model (monitor.matching.judge) on the real development set and the
project's written dev set, and write monitor/matching/judge_weights.bin (numbers only, no text).

    python -m benchmarks.train_topics --data ../shared/relevance-dev

Deterministic: the same data and topics.toml give the same file. Report the model's quality by
cross-validation (python -m benchmarks.topics), never on these items.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import topic_model
from monitor.matching import judge

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "relevance-dev")
    ap.add_argument("--topics", type=Path, default=REPO / "config" / "topics.toml")
    ap.add_argument("--out", type=Path, default=judge.WEIGHTS_FILE)
    args = ap.parse_args(argv)
    loaded = topic_model.load_inputs(args.data, args.topics, "benchmarks.train_topics")
    if loaded is None:
        return 2
    items, config = [it for it in loaded[0] if not it.ambiguous], loaded[1]
    items += topic_model.load_own(REPO / "tests" / "data" / "topics_dev.json")
    chosen: dict[str, tuple[float, float]] = {}
    models = topic_model.train_all(config, items, True, chosen=chosen)
    blob = judge.dump(models)
    args.out.write_bytes(blob)
    settings = ", ".join(f"{name} step {rate} class weight power {power}"
                         for name, (rate, power) in sorted(chosen.items()))
    print(f"{len(items)} items, topics {', '.join(sorted(models))}: {len(blob):,} bytes "
          f"written to {args.out}; chosen by inner cross-validation: {settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
