"""Parsing and extraction: feed, listing-page and other source bodies to entries; article
HTML to text (trafilatura, in worker processes); dates; entry identity. Sitemaps
(`sitemaps`) and Telegram channel previews (`telegram`) are parsed here too."""
