"""Putting back the spaces RapidOCR drops between English words."""

import pytest

from ml.ocr.words import WordSplitter


@pytest.fixture(scope="module")
def splitter() -> WordSplitter:
    return WordSplitter()


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("WHENYOU FINALLY FIXTHEBUG", "WHEN YOU FINALLY FIX THE BUG"),
        ("WhatifItoldyou", "What if I told you"),
        ("BUTWHENIDOIDO", "BUT WHEN I DO I DO"),
        ("ONEDOESNOTSIMPLY WALKINTOMORDOR", "ONE DOES NOT SIMPLY WALK INTO MORDOR"),
    ],
)
def test_it_splits_run_together_words_keeping_their_case(splitter, read, expected):
    assert splitter.split(read) == expected


def test_it_keeps_an_apostrophe_inside_its_word(splitter):
    assert splitter.split("IDON'T ALWAYS") == "I DON'T ALWAYS"


def test_it_splits_digits_stuck_to_words(splitter):
    assert splitter.split("SAIDIN2009 at4am") == "SAID IN 2009 at 4 am"


@pytest.mark.parametrize(
    "text", ["Keep calm and carry on", "Mordor", "3am mp3 2009", "lol!!! ok?", "café", "", "'''"]
)
def test_it_leaves_known_words_short_tokens_and_punctuation_alone(splitter, text):
    assert splitter.split(text) == text


def test_it_keeps_punctuation_where_it_was(splitter):
    assert splitter.split("ONEDOES.NOT, SIMPLY!") == "ONE DOES.NOT, SIMPLY!"


@pytest.mark.parametrize(
    "text",
    [
        "Harambe",  # not "Haram be"
        "#Yolocaust",  # not "Yolo caust"
        "DOES NOT SIMPLY",
        "DOESINOTISIMPI",  # a misread: not "DOES IN OTIS IMPI"
        "DOESNOTSIMPLV",  # not "DOES NOT SIMPL V"
    ],
)
def test_it_leaves_names_and_misreads_alone_rather_than_split_them_into_rare_fragments(
    splitter, text
):
    assert splitter.split(text) == text
