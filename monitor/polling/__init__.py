"""One source run: the orchestrator (`pipeline.run_source`), its parts (`deps`), article
fetching and the one article path, the text analysis done in workers, scheduling, and the
source kinds (`source_kinds`: feed, page, sitemap, telegram), one object each."""
