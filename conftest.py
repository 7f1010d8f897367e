"""Fixtures shared by every app's tests: users, real meme images, stored memes."""

import io
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Settings come from the environment only; the test run's values are set here, before
# Django first reads them. A value already in the environment wins (CI sets DATABASE_URL).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memesense_site.settings")
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
# Run django-q2 tasks in the calling process, through the real task function.
os.environ.setdefault("Q_SYNC", "1")
# No double-review sample unless a test asks for one: it would send a random-looking tenth
# of every test's decided memes back to the queue.
os.environ.setdefault("DOUBLE_REVIEW_RATE", "0")
# A developer's .env (DEBUG=1, their own settings) must not change what the tests see.
os.environ["DOTENV_FILE"] = ""
# Metric samples of the test processes go to a directory of their own, not var/metrics.
os.environ.setdefault("METRICS_DIR", tempfile.mkdtemp(prefix="memesense-test-metrics-"))

# The REDIS_URL the run was given; under `pytest -n` each worker is moved to a database of
# its own (pytest_xdist_newgateway below) and keeps the given one here.
REDIS_URL_GIVEN = os.environ.get("MEMESENSE_TESTS_REDIS_URL") or os.environ.get("REDIS_URL", "")

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Debian's Chromium, headless, with nothing that reaches the network on its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
]
PASSWORD = "correct horse battery staple"
SHIPPED_MODEL = Path(settings.BASE_DIR) / "ml" / "shipped" / "sentiment"


def pytest_configure(config):
    # Tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Every test that creates or logs in a user would otherwise spend ~0.3 s in PBKDF2;
    # the hasher is no part of what the suite checks (production keeps Django's default).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _redis_url_for_worker(url: str, worker: str) -> str:
    """The URL's database number plus the xdist worker's index (gw1 of redis://h/5: /6)."""
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + int(worker.removeprefix('gw'))}"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_newgateway(gateway):
    """Give each xdist worker its own Redis database and metrics directory.

    The workers inherit this process's environment (this file set it up), and pytest-django
    would read the settings from it before a worker imports this file; so the worker's
    values are set here, in its fresh interpreter, before it starts pytest. (Test databases
    get a suffix per worker from pytest-django; tmp_path is per worker already.)
    """
    metrics = tempfile.mkdtemp(prefix=f"memesense-test-metrics-{gateway.id}-")
    env = {"METRICS_DIR": metrics, "PROMETHEUS_MULTIPROC_DIR": metrics}
    # One thread per worker, as bench/stack.py gives its processes: the workers are the
    # parallelism, and two workers each running a thread per core for BLAS, OpenMP and
    # TensorFlow only fight over the two cores.
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ):
        env[name] = "1"
    if REDIS_URL_GIVEN:
        env["MEMESENSE_TESTS_REDIS_URL"] = REDIS_URL_GIVEN
        env["REDIS_URL"] = _redis_url_for_worker(REDIS_URL_GIVEN, gateway.id)
    # Without DJANGO_SETTINGS_MODULE the worker sets Django up as a plain run does: after
    # this file has set the environment and pytest_configure has changed the settings.
    code = f"import os; os.environ.update({env!r}); os.environ.pop('DJANGO_SETTINGS_MODULE')"
    gateway.remote_exec(code).waitclose()


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or any(
        name in item.fixturenames for name in ("transactional_db", "live_server")
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, put back the rows the migrations made.

    A plain run orders transactional tests last (pytest-django, as Django does), so no
    test ever meets the emptied database; on an xdist worker a file's tests run together,
    and the next file's tests would find no label sets, groups or shipped models.
    """
    result = yield
    # After the last test the test databases are gone already: nothing follows to need them.
    if nextitem is not None and _transactional(item):
        from django.core.management import call_command
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for connection in connections.all(initialized_only=True):
                rows = getattr(connection, "_test_serialized_contents", None)
                if rows:
                    call_command(
                        "flush",
                        database=connection.alias,
                        interactive=False,
                        verbosity=0,
                        inhibit_post_migrate=True,
                        # The rows come back with their ids; new rows must not reuse them.
                        reset_sequences=False,
                    )
                    connection.creation.deserialize_db_from_string(rows)
    return result


# The test files that take longest, slowest first (seconds per file on one of two xdist
# workers at load 3-4, from a run's per-test start and end times). xdist hands out whole
# files (--dist loadfile) in collection order (--no-loadscope-reorder in pyproject.toml),
# so these go first and the many short files fill in after them; in xdist's own order (most
# tests first) the one-test files that run real processes or a browser came last, and one
# worker ran them alone while the other had nothing left to do.
SLOWEST_FILES = (
    "moderation/tests/test_browser_layout.py",  # 32 s
    "moderation/tests/test_learning.py",  # 31 s
    "ml/tests/test_selection.py",  # 23 s
    "classifier/tests/api/test_schemathesis.py",  # 21 s
    "classifier/tests/test_workers.py",  # 20 s, two real django-q2 clusters
    "ml/tests/test_explain.py",  # 15 s
    "ml/tests/test_ocr_int8.py",  # 15 s, builds the int8 detector
    "classifier/tests/test_webhooks.py",  # 12 s
    "ml/tests/test_training.py",  # 12 s
    "ml/tests/test_ocr.py",  # 10 s
    "memesense_site/tests/test_metrics.py",  # 10 s
    "memesense_site/tests/test_hostile_requests.py",  # 9 s
    "memesense_site/tests/test_serve.py",  # 8 s
    "memesense_site/tests/test_docker.py",  # 8 s
    "ml/tests/test_seed_encoders.py",  # 7 s
    "memesense_site/tests/test_local_env.py",  # 7 s
    "moderation/tests/test_autodecisions.py",  # 6 s
    "classifier/tests/test_signals.py",  # 6 s
    "ml/tests/test_package.py",  # 6 s
    "classifier/tests/api/test_memes.py",  # 6 s
    "classifier/tests/api/test_upload_url.py",  # 5 s
    "classifier/tests/api/test_auth.py",  # 5 s
    "ml/tests/test_registry.py",  # 4 s
    "classifier/tests/test_browser.py",  # 4 s
    "classifier/tests/test_task.py",  # 4 s
    "ml/tests/test_cli.py",  # 4 s
    "moderation/tests/test_browser.py",  # 4 s
    "moderation/tests/test_permissions.py",  # 4 s
)


def _longest_first(items) -> None:
    """Order the items file by file: SLOWEST_FILES first, then the files with most tests.

    A stable sort, so the order within a file (pytest-django's included) stays as it is.
    Only on an xdist worker: a plain run keeps pytest-django's order (transactional last).
    """
    rank = {path: i for i, path in enumerate(SLOWEST_FILES)}
    count = Counter(item.location[0] for item in items)
    first = {path: i for i, path in enumerate(count)}  # Counter keeps the order of first sight

    def key(item):
        path = item.location[0]
        return rank.get(path, len(rank)), -count[path], first[path]

    items.sort(key=key)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _longest_first(items)
    if (SHIPPED_MODEL / "manifest.json").exists():
        return
    skip = pytest.mark.skip(reason="the shipped model ml/shipped/sentiment is not there yet")
    for item in items:
        if "model" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Give every test its own, empty MEDIA_ROOT."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="moderator", password=PASSWORD, is_staff=True
    )


@pytest.fixture
def promoter(django_user_model):
    """A moderator and staff member given the promote permission, as an admin would give it."""
    from django.contrib.auth.models import Group, Permission

    user = django_user_model.objects.create_user(
        username="promoter", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="moderators"))
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="classifier",
            codename__in=["promote_modelversion", "view_modelversion"],
        )
    )
    return user


def photo_background(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A photo-like background: smooth colour gradients with blotches and noise."""
    rng = random.Random(seed)
    width, height = size
    small = Image.new("RGB", (8, 6))
    small.putdata([tuple(rng.randrange(40, 220) for _ in range(3)) for _ in range(48)])
    image = small.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(10, max(11, width // 5))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(3))


def render_meme(
    top: str = "",
    bottom: str = "",
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    fill: str = "white",
    outline: str = "black",
) -> Image.Image:
    """Render meme-style captions (bold, outlined, centred) over a photo-like background."""
    image = photo_background(size, seed)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, max(18, size[1] // 10))
    stroke = max(2, size[1] // 120)
    for text, anchor_y in ((top, "top"), (bottom, "bottom")):
        if not text:
            continue
        box = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
        x = (size[0] - (box[2] - box[0])) // 2
        y = size[1] // 20 if anchor_y == "top" else size[1] - (box[3] - box[1]) - size[1] // 20
        draw.text((x, y), text, font=font, fill=fill, stroke_width=stroke, stroke_fill=outline)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


@pytest.fixture
def meme_image() -> Callable[..., bytes]:
    """Factory: meme_image(top="WHEN IT WORKS", bottom="...", fmt="JPEG") -> file bytes."""

    def make(
        top: str = "WHEN THE TESTS PASS",
        bottom: str = "FIRST TIME",
        fmt: str = "PNG",
        size: tuple[int, int] = (640, 480),
        seed: int = 0,
        **params,
    ) -> bytes:
        return encode(render_meme(top, bottom, size=size, seed=seed), fmt, **params)

    return make


@pytest.fixture
def upload_file() -> Callable[..., SimpleUploadedFile]:
    """Factory: upload_file(data, name) -> a file for the test client or a form."""

    def make(data: bytes, name: str = "meme.png", content_type: str = "image/png"):
        return SimpleUploadedFile(name, data, content_type=content_type)

    return make


@pytest.fixture
def sentiment(db):
    """The `sentiment` label set created by the classifier's data migration."""
    from classifier.models import LabelSet

    return LabelSet.objects.get(name="sentiment")


@pytest.fixture(autouse=True)
def _sentiment_only(request):
    """Tests see one shipped model (sentiment) unless they ask for `hateful_model`.

    Migration classifier 0009 registers the shipped `hateful` model too, so a fresh
    install classifies every upload for both; most tests are about one model and count
    its predictions and versions, so the hateful label set is removed for them.
    """
    wants_db = request.node.get_closest_marker("django_db") or any(
        name in request.fixturenames for name in ("db", "transactional_db")
    )
    if wants_db and "hateful_model" not in request.fixturenames:
        from classifier.models import LabelSet, ModelVersion

        request.getfixturevalue(
            "db" if "transactional_db" not in request.fixturenames else "transactional_db"
        )
        ModelVersion.objects.filter(label_set__name="hateful").delete()
        LabelSet.objects.filter(name="hateful").delete()


@pytest.fixture
def hateful_model(db):
    """The active `hateful` model version registered by the data migration (ml/shipped/hateful)."""
    from classifier.models import ModelVersion

    return ModelVersion.objects.get(label_set__name="hateful", is_active=True)


@pytest.fixture
def active_model(sentiment):
    """The active sentiment model version (the shipped default)."""
    from classifier import services
    from classifier.models import ModelVersion

    version = ModelVersion.objects.filter(label_set=sentiment, is_active=True).first()
    if version is not None:
        return version
    manifest = json.loads((SHIPPED_MODEL / "manifest.json").read_text())
    return services.model_version_register(
        label_set=sentiment,
        version=manifest["version"],
        artifact_path=str(SHIPPED_MODEL),
        metrics=manifest.get("metrics"),
        activate=True,
    )


@pytest.fixture
def meme_factory(db, meme_image) -> Callable:
    """Factory: a stored, pending Meme with a real image file (no task is run).

    meme_factory(top="...", caption="...", uploader=user, seed=3)
    """
    from classifier import services
    from classifier.validation import normalise_upload

    counter = iter(range(1, 10_000))

    def make(top: str = "TOP TEXT", bottom: str = "BOTTOM TEXT", caption: str = "", **kw):
        uploader = kw.pop("uploader", None)
        seed = kw.pop("seed", next(counter))
        data = meme_image(top, bottom, seed=seed, **kw)
        image = normalise_upload(data, f"meme-{seed}.png")
        meme, _ = services.meme_create(image=image, uploader=uploader, caption=caption)
        return meme

    return make


@pytest.fixture
def prediction_factory(db) -> Callable:
    """Factory: prediction_factory(meme, model_version, {"positive": .2, "negative": .8})."""
    from classifier import services
    from classifier.models import Meme, Prediction

    def make(meme, model_version, probabilities: dict[str, float], duration_ms: int = 5):
        confidence, margin, entropy = services.probability_stats(probabilities)
        prediction = Prediction.objects.create(
            meme=meme,
            label_set=model_version.label_set,
            model_version=model_version,
            label=max(probabilities, key=probabilities.get),
            probabilities=probabilities,
            confidence=confidence,
            margin=margin,
            entropy=entropy,
            duration_ms=duration_ms,
        )
        Meme.objects.filter(pk=meme.pk).update(status=Meme.Status.CLASSIFIED)
        return prediction

    return make


@pytest.fixture
def meme_files(media_root) -> Callable[[], list[str]]:
    """Return the files stored under MEDIA_ROOT, as relative paths (orphan checks)."""

    def files() -> list[str]:
        return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())

    return files


@pytest.fixture
def chromium():
    """A headless Chromium driven by Selenium (Debian's chromium + chromium-driver)."""
    import shutil

    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed (make test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager would otherwise try the network.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
