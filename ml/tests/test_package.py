import subprocess
import sys


def test_ml_imports_without_django_tensorflow_or_torch():
    code = (
        "import sys, ml, ml.ocr, ml.registry, ml.model, ml.encoders, ml.__main__\n"
        "bad = [m for m in ('django', 'tensorflow', 'keras', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_serving_a_model_does_not_import_tensorflow_or_torch(tmp_path):
    code = (
        "import sys, ml\n"
        "m = ml.load_model(ml.default_model_path())\n"
        "from PIL import Image\n"
        "r = ml.classify(m, [Image.new('RGB', (64, 64), 'red')], ['hello'])\n"
        "assert r[0].label in m.classes\n"
        "bad = [x for x in ('django', 'tensorflow', 'keras', 'torch') if x in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_serving_the_hateful_model_needs_no_tensorflow_and_scikit_learn_only_for_the_signal():
    # The model's lexical block ends with the offensive-language score, which
    # alt-profanity-check computes with scikit-learn (the worker loads it for the signal
    # anyway); nothing else of the model may pull scikit-learn or scipy in.
    code = (
        "import sys, ml\n"
        "m = ml.load_model(ml.default_model_path('hateful'))\n"
        "from PIL import Image\n"
        "r = ml.classify(m, [Image.new('RGB', (64, 64), 'red')], ['hello there'])\n"
        "assert r[0].label in m.classes, r\n"
        "bad = [x for x in ('django', 'tensorflow', 'keras', 'torch') if x in sys.modules]\n"
        "assert not bad, bad\n"
        "assert m.lexical.offensive, 'the shipped model reads the offensive score'\n"
        "assert 'sklearn' not in sys.modules or 'profanity_check' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
