"""Matching: pure functions over text: normalisation, the topic rule language and topics,
the relevance gate, dedup fingerprints and wire-agency credits."""
