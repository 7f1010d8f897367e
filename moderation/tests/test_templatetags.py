from moderation.templatetags.moderation_tags import metric, percent, without, zipped


def test_it_formats_metrics_compactly():
    assert metric(0.71234) == "0.712"
    assert metric(5992) == "5992"
    assert metric(None) == metric("") == "—"
    assert metric({"negative": 0.5, "positive": 3}) == "negative: 0.500, positive: 3"


def test_it_formats_percentages():
    assert percent(0.6666) == "66.7%"
    assert percent(None) == "—"


def test_it_leaves_out_the_named_keys():
    assert without({"accuracy": 1, "loss": 2, "auroc": 3}, "accuracy,auroc") == [("loss", 2)]
    assert without("not a dict", "x") == []


def test_it_pairs_each_value_with_its_column():
    assert zipped(["kim", "lee"], [3, 0]) == [("kim", 3), ("lee", 0)]
