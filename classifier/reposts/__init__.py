"""Repost clusters: perceptual hashes of every meme and the near-duplicates they group."""
