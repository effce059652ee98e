"""The commands behind the CLI: operations (once, status, backup, rebuild-index, alerts)
and queries (stories, show, search, export, stats, reextract, serve); `monitor sources`
(`sources`, with `discover`, `opml` and `sources_file`)."""
