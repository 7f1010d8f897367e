"""python manage.py classify IMAGE... [--text T] [--label-set NAME] [--json]"""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from classifier.models import Meme, Prediction

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[list[str], CommandError | None]:
    """Return the lines printed and the CommandError raised at the end, if any."""
    out = StringIO()
    try:
        call_command("classify", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue().splitlines(), exc
    return out.getvalue().splitlines(), None


@pytest.fixture
def meme_path(tmp_path, meme_image):
    def write(name: str, **kw) -> str:
        path = tmp_path / name
        path.write_bytes(meme_image(**kw))
        return str(path)

    return write


@pytest.mark.model
def test_it_prints_one_json_object_per_file(meme_path, active_model, meme_files):
    first = meme_path("a.png", top="GOOD NEWS", bottom="EVERYONE")
    second = meme_path("b.jpg", top="BAD DAY", bottom="AGAIN", fmt="JPEG", seed=4)
    lines, error = run(first, second, "--json", "--text", "caption here")
    assert error is None
    assert len(lines) == 2
    results = [json.loads(line) for line in lines]
    assert [r["file"] for r in results] == [first, second]
    assert "GOOD" in results[0]["ocr_text"].upper()
    prediction = results[0]["predictions"]["sentiment"]
    assert prediction["label"] in ("positive", "negative")
    assert set(prediction["probabilities"]) == {"positive", "negative"}
    assert prediction["model_version"] == active_model.version
    # Nothing is stored.
    assert Meme.objects.count() == 0
    assert Prediction.objects.count() == 0
    assert meme_files() == []


@pytest.mark.model
def test_it_prints_a_readable_summary_without_json(meme_path, active_model):
    lines, error = run(meme_path("a.png", top="HELLO THERE"), "--label-set", "sentiment")
    assert error is None
    assert lines[0].endswith("a.png")
    assert lines[1].startswith("  OCR text: ")
    assert lines[2].startswith("  sentiment: ")
    assert active_model.version in lines[2]


@pytest.mark.model
def test_it_reports_a_bad_file_and_still_classifies_the_others(meme_path, tmp_path, active_model):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    good = meme_path("good.png")
    lines, error = run(str(bad), str(tmp_path / "missing.png"), good, "--json")
    assert "2 of 3 file(s) failed" in str(error)
    results = [json.loads(line) for line in lines]
    assert "not a picture" in results[0]["error"]
    assert "cannot read file" in results[1]["error"]
    assert "predictions" in results[2]


def test_it_refuses_a_label_set_without_an_active_model(meme_path):
    lines, error = run(meme_path("a.png"), "--label-set", "nope")
    assert lines == []
    assert "'nope' has no active model version" in str(error)
