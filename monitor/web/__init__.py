"""`monitor web`: the reader for people (stories, their spread and trend), server-rendered."""
