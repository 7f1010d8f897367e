"""The served TF-IDF equals scikit-learn's, on the real memes' text."""

import csv
from pathlib import Path

import numpy as np
import pytest

from ml.lexical import LexicalVectorizer, fit_vectorizers, transform_sparse

LABELS = Path(__file__).resolve().parents[2].parent / "shared/data/religious_hateful/labels.csv"


@pytest.mark.skipif(not LABELS.is_file(), reason="../shared/data is not beside the repository")
def test_it_reproduces_scikit_learns_word_and_char_tfidf_exactly():
    with open(LABELS, newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)][:600]
    texts += ["Ünïcödé CAFÉ déjà-vu!!", "", "a", "x  y\tz"]
    vectorizers = fit_vectorizers(texts[:400])
    expected = transform_sparse(vectorizers, texts[400:]).toarray()
    served = LexicalVectorizer.from_sklearn(vectorizers)
    assert np.abs(served.transform(texts[400:]) - expected).max() < 1e-6
    again = LexicalVectorizer.from_dict(served.to_dict())
    assert np.array_equal(again.transform(texts[400:]), served.transform(texts[400:]))
