"""Configuration: the TOML files read and validated once (settings table, sources,
topics), durations and sizes, secret references."""
