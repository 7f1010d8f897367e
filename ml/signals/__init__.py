"""Signals a moderator can use from day one, before any model has learned the community's labels.

Each signal is a score in [0, 1] per meme, computed from what the pipeline already has (the
meme's text, its picture). They are shown beside the model's prediction and may be fed to a
model as features; they never decide anything on their own.
"""

from .nsfw import nsfw_scores
from .profanity import offensive_scores

__all__ = ["nsfw_scores", "offensive_scores"]
