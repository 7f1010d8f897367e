import numpy as np
import pytest

from ml.encoders import MEMO_SIZE, encoding_memo, get_image_encoder, get_text_encoder


@pytest.fixture(scope="module")
def image_encoder():
    return get_image_encoder("efficientnet-lite0")


@pytest.fixture(scope="module")
def text_encoder():
    return get_text_encoder("minilm-l6")


def test_it_encodes_images_to_1280_features(image_encoder, photos):
    features = image_encoder.encode(list(photos.values()))
    assert features.shape == (2, 1280)
    assert features.dtype == np.float32


def test_it_is_deterministic(image_encoder, photos):
    img = photos["china"]
    first = image_encoder.encode([img])
    encoding_memo(image_encoder).clear()  # computed again, not remembered
    assert np.array_equal(first, image_encoder.encode([img]))


def test_it_remembers_recent_encodings_by_content_not_by_object(image_encoder, photos):
    encoding_memo(image_encoder).clear()
    img = photos["china"]
    first = image_encoder.encode([img, photos["flower"]])
    assert len(encoding_memo(image_encoder).vectors) == 2
    again = image_encoder.encode([img.copy(), img])  # a copy has the same pixels: one entry
    assert len(encoding_memo(image_encoder).vectors) == 2
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[0])
    changed = img.copy()
    changed.putpixel((0, 0), (255, 0, 0))
    image_encoder.encode([changed.resize((8, 8))])
    assert len(encoding_memo(image_encoder).vectors) == 3


def test_the_memo_of_texts_is_bounded_and_returns_what_was_computed(text_encoder):
    encoding_memo(text_encoder).clear()
    texts = [f"caption number {i}" for i in range(MEMO_SIZE + 10)]
    computed = text_encoder.encode(texts)
    assert len(encoding_memo(text_encoder).vectors) == MEMO_SIZE
    remembered = text_encoder.encode(texts[-5:] + texts[-5:])
    assert np.array_equal(remembered[:5], computed[-5:])
    assert np.array_equal(remembered[5:], computed[-5:])


def test_it_recognises_imagenet_classes_like_the_original_network(image_encoder, photos):
    # ImageNet ids: 985 daisy; 442 bell cote, 449 boathouse, 483 castle,
    # 663 monastery, 698 palace. A broken port (wrong padding, swish instead
    # of ReLU6, BN not folded) loses these.
    logits = image_encoder.logits([photos["flower"], photos["china"]])
    assert logits[0].argmax() == 985
    assert set(np.argsort(-logits[1])[:5]) & {442, 449, 483, 663, 698}


def test_two_crops_of_one_photo_are_closer_than_unrelated_photos(image_encoder, photos):
    china, flower = photos["china"], photos["flower"]
    w, h = china.size
    crops = [
        china.crop((0, 0, int(w * 0.8), int(h * 0.8))),
        china.crop((int(w * 0.2), int(h * 0.2), w, h)),
    ]
    a, b, other = image_encoder.encode([*crops, flower])

    def cos(u, v):
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    assert cos(a, b) > cos(a, other) + 0.1
    assert cos(a, b) > cos(b, other) + 0.1


def test_text_embeddings_are_unit_length_and_semantic(text_encoder):
    e = text_encoder.encode(
        [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The stock market crashed today.",
        ]
    )
    assert e.shape == (3, 384)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert e[0] @ e[1] > 0.6
    assert e[0] @ e[2] < 0.2


def test_padding_does_not_change_an_embedding(text_encoder):
    short = "cat"
    alone = text_encoder.encode([short])
    encoding_memo(text_encoder).clear()  # "cat" is encoded again, padded this time
    padded = text_encoder.encode(
        [short, "a much longer caption that forces padding of the short one"]
    )
    assert np.allclose(alone[0], padded[0], atol=1e-5)


def test_it_truncates_long_texts_to_the_token_limit(text_encoder):
    long = "word " * 500
    assert text_encoder.encode([long]).shape == (1, 384)
    assert len(text_encoder.tokenizer.encode(long).ids) == 50


def test_empty_text_gives_a_finite_embedding(text_encoder):
    assert np.isfinite(text_encoder.encode([""])).all()
