"""Fetching: the one guarded HTTP client (address guard, deadlines, caps, per-host
politeness), robots.txt, decoding bytes to text, URL rules."""
