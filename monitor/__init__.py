"""feed-monitor: the daemon (fetch, parse, extract, decide, store, alert). Imports `storage`."""

__version__ = "0.1.0"
