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


def test_its_last_column_is_the_offensive_language_score_of_the_text():
    texts = ["you are a fucking idiot", "have a lovely day", "what a lovely idiot", ""]
    fit = fit_vectorizers(texts, min_df=1)
    served = LexicalVectorizer.from_sklearn(fit)
    rows = served.transform(texts)
    assert rows.shape == (4, served.dim)
    assert rows[0, -1] > 0.5 > rows[1, -1]
    assert rows[3, -1] == 0.0
    assert np.allclose(transform_sparse(fit, texts).toarray()[:, -1], rows[:, -1])


def test_a_model_saved_before_the_offensive_column_reads_without_it():
    fit = fit_vectorizers(["have a lovely day", "a lovely idiot"], min_df=1)
    old = LexicalVectorizer.from_sklearn(fit).to_dict()
    del old["offensive"]
    loaded = LexicalVectorizer.from_dict(old)
    assert not loaded.offensive
    assert loaded.dim == len(loaded.word_idf) + len(loaded.char_idf)
    assert loaded.transform(["a lovely idiot"]).shape == (1, loaded.dim)
