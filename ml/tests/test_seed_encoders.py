"""The seed's encoders (bert-base, ResNet50) load from local files.

Tested with tiny random weights, as nothing can be downloaded here.
"""

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from ml.encoders import ResNet50Encoder, TextEncoder, get_text_encoder
from ml.weights import WeightsError

VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "dog",
    "##s",
]


def make_tiny_bert(folder, hidden=16, layers=2, heads=2, inter=32, seed=0, prefix="bert."):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    config = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": inter,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "vocab_size": len(VOCAB),
        "max_position_embeddings": 64,
        "type_vocab_size": 2,
    }
    (folder / "config.json").write_text(json.dumps(config))

    def r(*shape):
        return rng.normal(0, 0.2, size=shape).astype(np.float32)

    s = {
        "embeddings.word_embeddings.weight": r(len(VOCAB), hidden),
        "embeddings.position_embeddings.weight": r(64, hidden),
        "embeddings.token_type_embeddings.weight": r(2, hidden),
        "embeddings.LayerNorm.weight": 1 + r(hidden),
        "embeddings.LayerNorm.bias": r(hidden),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}"
        for name, (o, n) in {
            "attention.self.query": (hidden, hidden),
            "attention.self.key": (hidden, hidden),
            "attention.self.value": (hidden, hidden),
            "attention.output.dense": (hidden, hidden),
            "intermediate.dense": (inter, hidden),
            "output.dense": (hidden, inter),
        }.items():
            s[f"{p}.{name}.weight"], s[f"{p}.{name}.bias"] = r(o, n), r(o)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[f"{p}.{ln}.weight"], s[f"{p}.{ln}.bias"] = 1 + r(hidden), r(hidden)
    save_file({prefix + k: v for k, v in s.items()}, str(folder / "model.safetensors"))
    return config, s


def numpy_bert(s, config, ids, mask):
    """A plain reference implementation of BERT + mean pooling."""
    from scipy.special import erf

    def ln(x, name):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * s[f"{name}.weight"] + s[f"{name}.bias"]

    def lin(x, name):
        return x @ s[f"{name}.weight"].T + s[f"{name}.bias"]

    n, length = ids.shape
    h, heads = config["hidden_size"], config["num_attention_heads"]
    d = h // heads
    x = (
        s["embeddings.word_embeddings.weight"][ids]
        + s["embeddings.position_embeddings.weight"][:length]
    )
    x = ln(x + s["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    bias = (1.0 - mask[:, None, None, :]) * -1e9
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"

        def split(t):
            return t.reshape(n, length, heads, d).transpose(0, 2, 1, 3)

        q, k, v = (split(lin(x, f"{p}.attention.self.{m}")) for m in ("query", "key", "value"))
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, length, h)
        x = ln(x + lin(ctx, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
        inner = lin(x, f"{p}.intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / np.sqrt(2)))
        x = ln(x + lin(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
    m = mask[:, :, None]
    return (x * m).sum(1) / m.sum(1)


def test_the_onnx_bert_matches_a_reference_implementation(tmp_path):
    config, state = make_tiny_bert(tmp_path / "bert")
    encoder = TextEncoder("bert-base", tmp_path / "bert", max_tokens=50, normalize=False)
    texts = ["the cat sat on the mat", "dogs"]
    out = encoder.encode(texts)
    batch = encoder.tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in batch])
    mask = np.array([e.attention_mask for e in batch], dtype=np.float32)
    assert out.shape == (2, 16)
    assert np.allclose(out, numpy_bert(state, config, ids, mask), atol=1e-4)


def test_bert_base_is_selected_by_config_from_a_local_folder(tmp_path):
    make_tiny_bert(tmp_path / "bert", hidden=8, heads=2)
    encoder = get_text_encoder("bert-base", str(tmp_path / "bert"), 50)
    assert encoder.dim == 8
    assert encoder.encode(["the dog"]).shape == (1, 8)


def test_bert_base_without_local_weights_is_a_clear_error():
    with pytest.raises(WeightsError, match="local"):
        get_text_encoder("bert-base", None, 50)


def test_a_folder_without_weights_is_refused(tmp_path):
    make_tiny_bert(tmp_path / "bert")
    (tmp_path / "bert" / "model.safetensors").unlink()
    with pytest.raises(WeightsError, match="safetensors"):
        TextEncoder("bert-base", tmp_path / "bert", 50, normalize=False)


def test_resnet50_loads_its_weights_from_a_local_file(tmp_path, photos):
    import keras

    random_net = ResNet50Encoder(weights=None)
    path = tmp_path / "resnet50.weights.h5"
    keras.Model(random_net.model.inputs, random_net.model.outputs).save_weights(path)
    loaded = ResNet50Encoder(weights=str(path))
    images = list(photos.values())
    expected = random_net.encode(images)
    assert expected.shape == (2, 2048)
    assert np.allclose(loaded.encode(images), expected, atol=1e-4)


def test_resnet50_with_a_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        ResNet50Encoder(weights=str(tmp_path / "missing.h5"))


def test_built_graphs_are_cached_on_disk_and_reused(tmp_path, monkeypatch):
    make_tiny_bert(tmp_path / "bert")
    monkeypatch.setenv("ML_ENCODER_CACHE", str(tmp_path / "cache"))
    first = TextEncoder("bert-base", tmp_path / "bert", 50, normalize=False)
    cached = list((tmp_path / "cache").glob("*.onnx"))
    assert len(cached) == 1
    second = TextEncoder("bert-base", tmp_path / "bert", 50, normalize=False)
    assert list((tmp_path / "cache").glob("*.onnx")) == cached
    assert np.array_equal(first.encode(["the cat"]), second.encode(["the cat"]))
    # New weights, new graph: the cache never serves a stale one.
    make_tiny_bert(tmp_path / "bert", seed=1)
    third = TextEncoder("bert-base", tmp_path / "bert", 50, normalize=False)
    assert len(list((tmp_path / "cache").glob("*.onnx"))) == 2
    assert not np.allclose(first.encode(["the cat"]), third.encode(["the cat"]))


def test_an_unwritable_encoder_cache_only_costs_a_rebuild(tmp_path, monkeypatch):
    make_tiny_bert(tmp_path / "bert")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("ML_ENCODER_CACHE", str(blocker / "cache"))
    assert TextEncoder("bert-base", tmp_path / "bert", 50, normalize=False).encode(
        ["dog"]
    ).shape == (1, 16)
