"""The bridge to ml: lazy, once per process, fresh after a fork."""

import os
import subprocess
import sys

import ml
from classifier import ml_bridge


def test_importing_the_app_loads_no_model_or_ml_runtime(settings):
    code = (
        "import django, sys; django.setup();"
        "import classifier.tasks, classifier.services, classifier.views, memesense_site.urls;"
        "heavy = [m for m in ('onnxruntime', 'tensorflow', 'keras', 'rapidocr', 'cv2',"
        " 'matplotlib', 'sklearn') if m in sys.modules];"
        "print(','.join(heavy) or 'none')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "memesense_site.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "none"


def test_it_loads_a_model_once_and_again_only_for_a_new_path(monkeypatch):
    loads = []
    monkeypatch.setattr(ml, "load_model", lambda path: loads.append(path) or object())
    monkeypatch.setattr(ml_bridge, "_models", {})
    first = ml_bridge.load_model("sentiment", "/models/v1")
    assert ml_bridge.load_model("sentiment", "/models/v1") is first
    assert len(loads) == 1
    second = ml_bridge.load_model("sentiment", "/models/v2")
    assert second is not first
    assert len(loads) == 2
    # Only the current version is held.
    assert ml_bridge.loaded_models() == {"sentiment": "/models/v2"}


def test_a_forked_worker_loads_its_own_model(monkeypatch):
    monkeypatch.setattr(ml, "load_model", lambda path: object())
    monkeypatch.setattr(ml_bridge, "_models", {})
    parent_model = ml_bridge.load_model("sentiment", "/models/v1")

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child, as a django-q2 worker after the fork
        try:
            child_model = ml_bridge.load_model("sentiment", "/models/v1")
            os.write(write, b"fresh" if child_model is not parent_model else b"shared")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 16)
    os.waitpid(pid, 0)
    assert answer == b"fresh"
    assert ml_bridge.load_model("sentiment", "/models/v1") is parent_model
