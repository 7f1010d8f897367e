"""Word and character n-gram TF-IDF of a meme's text, fitted with scikit-learn, served in Python.

Training fits scikit-learn's TfidfVectorizer (word 1-2-grams and char_wb 2-5-grams, sublinear
tf, l2-normalised). A lexical block also carries one more column, the text's offensive-language
score (ml.signals, alt-profanity-check): on religious_hateful it raised the lexical model's
grouped out-of-fold AUROC from 0.693 to 0.713 (issue 11 asks for the score as a feature).

Serving repeats the same arithmetic here from the fitted vocabulary and idf weights: no
scikit-learn vectoriser is unpickled in the worker (only alt-profanity-check's own model,
which the worker loads for the signal anyway), and skl2onnx converts neither ``char_wb``
analysers nor the union of two vectorisers. A test checks this module against
scikit-learn's own transform on real text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .signals import offensive_scores

# scikit-learn's default token_pattern for the word analyser.
_WORD = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)


def _strip_accents(text: str) -> str:
    # TfidfVectorizer(strip_accents="unicode") does exactly this.
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _preprocess(text: str) -> str:
    return _strip_accents((text or "").lower())


def word_ngrams(text: str, ngrams=WORD_NGRAMS) -> list[str]:
    tokens = _WORD.findall(_preprocess(text))
    lo, hi = ngrams
    out = []
    for n in range(lo, hi + 1):
        out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


def char_wb_ngrams(text: str, ngrams=CHAR_NGRAMS) -> list[str]:
    # The same walk as scikit-learn's _char_wb_ngrams: each word padded with one space.
    lo, hi = ngrams
    out = []
    for word in _SPACES.sub(" ", _preprocess(text)).split():
        word = f" {word} "
        length = len(word)
        for n in range(lo, hi + 1):
            offset = 0
            out.append(word[offset : offset + n])
            while offset + n < length:
                offset += 1
                out.append(word[offset : offset + n])
            if offset == 0:  # the word is shorter than n: one n-gram only
                break
    return out


@dataclass
class LexicalFit:
    """The training side: fitted (word, char) TfidfVectorizers and the offensive column."""

    word: object  # sklearn TfidfVectorizer, or None when no word reaches min_df
    char: object
    offensive: bool = True

    @property
    def vectorizers(self) -> list:
        return [self.word, self.char]

    @property
    def has_terms(self) -> bool:
        return self.word is not None or self.char is not None


def fit_vectorizers(
    texts: list[str], min_df: int = 2, max_features: int = 20000, offensive: bool = True
) -> LexicalFit:
    """Fit the (word, char) TfidfVectorizers (scikit-learn; training only)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = {"sublinear_tf": True, "strip_accents": "unicode", "min_df": min_df}
    word = TfidfVectorizer(ngram_range=WORD_NGRAMS, max_features=max_features, **common)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=CHAR_NGRAMS, max_features=max_features, **common
    )
    texts = [t or "" for t in texts]
    fitted = []
    for vectorizer in (word, char):
        try:
            vectorizer.fit(texts)
        except ValueError:  # no term reaches min_df (tiny or empty texts): leave it out
            vectorizer = None
        fitted.append(vectorizer)
    return LexicalFit(*fitted, offensive=offensive)


def transform_sparse(fit: LexicalFit, texts: list[str]):
    """The training-side feature matrix (scipy sparse): word block, char block, offensive."""
    import scipy.sparse as sp

    texts = [t or "" for t in texts]
    blocks = [v.transform(texts) for v in fit.vectorizers if v is not None]
    if fit.offensive:
        blocks.append(sp.csr_matrix(offensive_scores(texts).reshape(-1, 1)))
    if not blocks:
        return sp.csr_matrix((len(texts), 0), dtype=np.float32)
    return sp.hstack(blocks, format="csr", dtype=np.float32)


@dataclass
class LexicalVectorizer:
    """The served form: vocabularies and idf weights of the two blocks, no scikit-learn."""

    word_vocabulary: dict[str, int]
    word_idf: np.ndarray
    char_vocabulary: dict[str, int]
    char_idf: np.ndarray
    # A last column with the text's offensive-language score (False in models saved
    # before it existed).
    offensive: bool = False

    @classmethod
    def from_sklearn(cls, fit: LexicalFit) -> LexicalVectorizer:
        parts = []
        for v in fit.vectorizers:
            if v is None:
                parts += [{}, np.zeros(0, np.float32)]
            else:
                parts += [{k: int(i) for k, i in v.vocabulary_.items()}, v.idf_.astype(np.float32)]
        return cls(*parts, offensive=fit.offensive)

    @property
    def dim(self) -> int:
        return len(self.word_idf) + len(self.char_idf) + int(self.offensive)

    def _block(self, grams: list[str], vocabulary: dict[str, int], idf: np.ndarray) -> np.ndarray:
        row = np.zeros(len(idf), dtype=np.float64)
        for gram in grams:
            j = vocabulary.get(gram)
            if j is not None:
                row[j] += 1.0
        nz = row > 0
        row[nz] = (1.0 + np.log(row[nz])) * idf[nz]  # sublinear tf times idf
        norm = np.sqrt((row * row).sum())
        return row / norm if norm > 0 else row

    def transform(self, texts: list[str]) -> np.ndarray:
        """Dense (n, dim) float32 rows, equal to the training-side sparse rows."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        split = len(self.word_idf)
        for i, text in enumerate(texts):
            if split:
                out[i, :split] = self._block(word_ngrams(text), self.word_vocabulary, self.word_idf)
            if len(self.char_idf):
                out[i, split : split + len(self.char_idf)] = self._block(
                    char_wb_ngrams(text), self.char_vocabulary, self.char_idf
                )
        if self.offensive:
            out[:, -1] = offensive_scores(texts)
        return out

    def to_dict(self) -> dict:
        return {
            "word_vocabulary": self.word_vocabulary,
            "word_idf": [float(x) for x in self.word_idf],
            "char_vocabulary": self.char_vocabulary,
            "char_idf": [float(x) for x in self.char_idf],
            "offensive": self.offensive,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LexicalVectorizer:
        return cls(
            dict(data["word_vocabulary"]),
            np.asarray(data["word_idf"], np.float32),
            dict(data["char_vocabulary"]),
            np.asarray(data["char_idf"], np.float32),
            bool(data.get("offensive", False)),
        )
