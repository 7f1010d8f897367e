"""Put back the spaces that RapidOCR's recogniser drops between English words.

RapidOCR's recogniser was trained mostly on Chinese, where lines have no spaces, so on
tightly set meme captions it can read "WHENYOU FINALLY FIXTHEBUG". We split such runs
by English word frequencies (the `wordsegment` unigram and bigram counts, from the Google
Web Trillion Word Corpus), leaving any run that is already a known word alone.
"""

import re
from itertools import pairwise

# Words (letters, digits and apostrophes, so "DON'T" stays one) versus everything else.
_WORD = re.compile(r"[A-Za-z0-9']+")
_CHUNKS = re.compile(r"[A-Za-z0-9']+|[^A-Za-z0-9']+")
_LETTERS_OR_DIGITS = re.compile(r"[A-Za-z']+|[0-9]+")
# Shorter chunks are left alone: they are words or abbreviations far more often than joins.
MIN_LENGTH = 4
# A split is only taken when its parts are words people write: a part rarer than this (in
# the corpus's ~1 trillion words) and shorter than RARE_MIN_LENGTH letters is more likely
# a fragment of a name or a misread ("Harambe" -> "Haram be", "Yolocaust" -> "Yolo caust",
# a garbled "DOESINOTISIMPI" -> "DOES IN OTIS IMPI") than a word, and so is a lone letter
# other than "a" and "I". Longer rare parts are kept: "WALKINTOMORDOR" -> "WALK INTO MORDOR".
RARE_COUNT = 1_000_000
RARE_MIN_LENGTH = 6


class WordSplitter:
    """Split run-together English words, keeping the original case and punctuation."""

    def __init__(self) -> None:
        from wordsegment import Segmenter

        self._segmenter = Segmenter()
        self._segmenter.load()

    def split(self, text: str) -> str:
        """Return `text` with spaces inserted inside run-together words."""
        return " ".join(self._split_token(token) for token in text.split())

    def _split_token(self, token: str) -> str:
        return "".join(
            self._split_chunk(chunk) if _WORD.fullmatch(chunk) else chunk
            for chunk in _CHUNKS.findall(token)
        )

    def _is_known(self, chunk: str) -> bool:
        word = chunk.replace("'", "").lower()
        return len(word) < MIN_LENGTH or word in self._segmenter.unigrams

    def _split_chunk(self, chunk: str) -> str:
        # "IN2009", "at4am": digits stuck to letters are joins unless the whole is a word.
        if self._is_known(chunk):
            return chunk
        return " ".join(
            part if part.isdigit() else self._split_letters(part)
            for part in _LETTERS_OR_DIGITS.findall(chunk)
        )

    def _plausible(self, parts: list[str]) -> bool:
        for part in parts:
            if len(part) == 1 and part not in "ai":
                return False
            rare = self._segmenter.unigrams.get(part, 0) < RARE_COUNT
            if rare and len(part) < RARE_MIN_LENGTH:
                return False
        return True

    def _split_letters(self, run: str) -> str:
        if self._is_known(run):
            return run
        letters = [index for index, char in enumerate(run) if char != "'"]
        parts = self._segmenter.segment(run.replace("'", "").lower())
        if not self._plausible(parts):
            return run
        cuts, seen = [], 0
        for part in parts[:-1]:
            seen += len(part)
            cuts.append(letters[seen])
        bounds = [0, *cuts, len(run)]
        return " ".join(run[start:end] for start, end in pairwise(bounds))
