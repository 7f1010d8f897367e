import csv

import pytest

from ml.__main__ import main

from .conftest import make_rule_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    csv_path = make_rule_dataset(folder, 60)
    return folder, csv_path


def test_predict_writes_one_row_per_input_with_an_error_column(dataset, tmp_path):
    folder, csv_path = dataset
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))[:5]
    rows.append({**rows[0], "image_name": "missing.png"})
    (folder / "images" / "broken.png").write_bytes(b"not an image")
    rows.append({**rows[0], "image_name": "broken.png"})
    sub_csv = tmp_path / "in.csv"
    with open(sub_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "preds.csv"
    code = main(
        [
            "predict",
            "--csv",
            str(sub_csv),
            "--images",
            str(folder / "images"),
            "--text-column",
            "text_corrected",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    with open(out, newline="") as f:
        result = list(csv.DictReader(f))
    assert len(result) == 7
    assert {"image_name", "label", "prob_positive", "prob_negative", "error"} <= set(result[0])
    assert all(r["label"] in ("positive", "negative") for r in result[:5])
    assert abs(float(result[0]["prob_positive"]) + float(result[0]["prob_negative"]) - 1) < 1e-4
    assert result[5]["error"] and not result[5]["label"]
    assert result[6]["error"]


def test_train_then_evaluate_from_the_command_line(dataset, tmp_path, capsys):
    folder, csv_path = dataset
    code = main(
        [
            "train",
            "--csv",
            str(csv_path),
            "--images",
            str(folder / "images"),
            "--label-column",
            "label",
            "--label-set",
            "temperature",
            "--classes",
            "warm,cool",
            "--out",
            str(tmp_path / "models"),
            "--version",
            "t1",
            "--candidates",
            "image_logreg,lexical_logreg",
        ]
    )
    assert code == 0
    saved = tmp_path / "models" / "t1"
    assert (saved / "report" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (saved / "report" / "reliability.png").is_file()
    out = capsys.readouterr().out
    assert "tfidf_logreg" in out and "majority_class" in out
    assert "candidate (grouped CV)" in out and "selected " in out
    code = main(
        [
            "evaluate",
            "--csv",
            str(csv_path),
            "--images",
            str(folder / "images"),
            "--label-column",
            "label",
            "--model",
            str(saved),
            "--out",
            str(tmp_path / "eval"),
        ]
    )
    assert code == 0
    assert (tmp_path / "eval" / "metrics.json").is_file()


def test_a_bad_label_map_is_a_clear_error(dataset):
    folder, csv_path = dataset
    with pytest.raises(SystemExit, match="--map"):
        main(
            [
                "train",
                "--csv",
                str(csv_path),
                "--images",
                str(folder / "images"),
                "--label-column",
                "label",
                "--map",
                "nonsense",
                "--out",
                "x",
            ]
        )


def test_a_corrupt_model_folder_exits_with_a_message(dataset, tmp_path, capsys):
    folder, csv_path = dataset
    (tmp_path / "m").mkdir()
    code = main(
        [
            "predict",
            "--csv",
            str(csv_path),
            "--images",
            str(folder / "images"),
            "--model",
            str(tmp_path / "m"),
            "--out",
            str(tmp_path / "p.csv"),
        ]
    )
    assert code == 2
    assert "manifest" in capsys.readouterr().err
