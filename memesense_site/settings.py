"""Memesense settings: one file, every value from the environment.

Local defaults are safe for one machine (SQLite, the django-q2 ORM broker, DEBUG off).
Values that must not be guessed in production (SECRET_KEY) fail loudly when missing.
`.env.example` lists every variable read here.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# A developer's `.env` (written by `make run` / `make test`: DEBUG=1 and a generated
# SECRET_KEY) is read when present, so local commands work without typing DEBUG=1. Real
# environment variables win over it. Production has no such file and is unchanged;
# DOTENV_FILE= (empty) turns the file off, as the tests do.
_dotenv = os.environ.get("DOTENV_FILE", str(BASE_DIR / ".env"))  # before env_* exist
if _dotenv:
    from dotenv import load_dotenv

    load_dotenv(_dotenv, override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def env_fraction(name: str, default: float) -> float:
    """A number from 0 to 1 (a rate); anything else fails loudly."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        fraction = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if not 0 <= fraction <= 1:
        raise ImproperlyConfigured(f"{name}={value!r} must be between 0 and 1")
    return fraction


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development)."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Runtime state (SQLite database, trained model versions) lives under var/, outside git.
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "classifier",
    "moderation",
]

MIDDLEWARE = [
    # First: load balancers and container health checks call /healthz by IP over plain
    # HTTP, so it answers before the host check and the HTTPS redirect.
    "memesense_site.health.HealthCheckMiddleware",
    # GET /metrics answers here for the same reason; every other answer is timed.
    "memesense_site.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ?x=%00 would reach PostgreSQL and fail there (a 500); it is a 400 here.
    "memesense_site.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A database restart answers 503 and "try again", not a 500.
    "memesense_site.health.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "memesense_site.urls"
WSGI_APPLICATION = "memesense_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

_default_sqlite = VAR_DIR / "db.sqlite3"
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{_default_sqlite}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web server and the worker write to the same file: WAL lets readers run beside a
    # writer, IMMEDIATE transactions and a timeout make writers queue instead of failing
    # with "database is locked". Connections are kept for CONN_MAX_AGE as on PostgreSQL
    # (one per gunicorn thread; django-q2 closes them before it forks): opening one per
    # request, with its PRAGMAs and a fresh read of the schema, was 1 ms of the 7.6 ms of
    # CPU an upload cost gunicorn (bench.api_upload, docs/benchmarks.md).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling and lockout (django-axes) for the site's and the admin's login forms:
# after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair
# is locked out for AXES_COOLOFF_MINUTES (or until an admin deletes the attempt in admin
# -> Axes -> Access attempts, or runs `manage.py axes_reset_username NAME`). Counting the
# pair, not the username alone, keeps a stranger from locking a moderator out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The address as the API throttles see it (NUM_PROXIES below), not the proxy's.
AXES_CLIENT_IP_CALLABLE = "memesense_site.accounts.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Passwords typed into the username field must not end up in the attempts table.
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "classifier:upload"
LOGOUT_REDIRECT_URL = "login"

# Outgoing mail, used only for password-reset links. Without EMAIL_HOST the reset pages
# are not mounted at all (an admin sets passwords then), so nothing tries SMTP on
# localhost:25. EMAIL_URL-style values are not used: each part is its own variable.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "memesense@localhost")
PASSWORD_RESET_ENABLED = bool(EMAIL_HOST)

# Whether visitors who are not logged in may upload and view memes.
ALLOW_ANONYMOUS_UPLOAD = env_bool("ALLOW_ANONYMOUS_UPLOAD", False)

# --- I18n -----------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "media")
# In the embedded set-up Django serves uploaded media itself; behind a front server or a
# storage backend that serves them, turn this off.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Meme files are named by the SHA-256 of the upload, so writing the same name twice
    # writes the same bytes: overwriting is correct and keeps one copy. No location here:
    # the storage follows MEDIA_ROOT (and test overrides of it).
    "memes": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads --------------------------------------------------------------------------------

# Largest accepted upload, in bytes.
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
# Largest accepted image, in pixels (width x height). Above it an upload is rejected as a
# possible decompression bomb; Pillow's own limit is set to the same value.
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000)
# Uploads by URL (the API's `image_url`): the whole fetch must finish within this many
# seconds, and at most this many redirects are followed (each checked by the SSRF guard,
# which WEBHOOK_ALLOW_PRIVATE_NETWORKS also governs).
IMAGE_URL_TIMEOUT = env_int("IMAGE_URL_TIMEOUT", 15)
IMAGE_URL_MAX_REDIRECTS = env_int("IMAGE_URL_MAX_REDIRECTS", 3)
# Requests bigger than the upload limit plus room for the form fields are cut off early.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024

# --- Machine learning -----------------------------------------------------------------------

# Where trained model versions are written (the shipped default lives in ml/shipped/).
ML_MODEL_ROOT = env_path("ML_MODEL_ROOT", VAR_DIR / "models")
# Encoder features cached per image/text hash, so retraining only encodes new memes.
ML_FEATURE_CACHE = env_path("ML_FEATURE_CACHE", VAR_DIR / "features")
# The promotion gate (ml/gate.py): a retrained model replaces the active one automatically
# only when the gate split holds at least GATE_MIN_PER_CLASS memes of every class and a
# paired bootstrap (GATE_RESAMPLES resamples, 95% level) shows it is not worse than the
# active model by more than GATE_MARGIN in macro-F1 and in AUROC.
GATE_MIN_PER_CLASS = env_int("GATE_MIN_PER_CLASS", 30)
GATE_MARGIN = env_fraction("GATE_MARGIN", 0.02)
GATE_RESAMPLES = env_int("GATE_RESAMPLES", 2000)
# Candidates model selection compares on every retrain (ml/selection.py), comma-separated.
ML_CANDIDATES = env_list(
    "ML_CANDIDATES",
    "image_logreg,text_logreg,features_logreg,lexical_logreg,keras_fusion,stack",
)
# After a promotion, queue a reclassification of the memes no human has labelled.
RECLASSIFY_AFTER_PROMOTION = env_bool("RECLASSIFY_AFTER_PROMOTION", False)
# OCR engine for ml.ocr.get_engine (rapidocr, tesseract, ...); empty means ml's default.
OCR_ENGINE = env_str("MEMESENSE_OCR_ENGINE")
# Store with each prediction which modality decided and which caption words mattered.
EXPLAIN_PREDICTIONS = env_bool("EXPLAIN_PREDICTIONS", True)
# Score every upload's picture with nudenet's NSFW detector (Meme.nsfw_score). Off by default:
# nudenet is AGPL-3.0 (requirements-nsfw.txt; docs/ml.md says what switching it on implies).
NSFW_DETECTION = env_bool("NSFW_DETECTION", False)

# Labelled datasets imported from the dashboard (a CSV and a zip of images) are unpacked
# here before the slow queue imports them; IMPORT_MAX_BYTES caps the zip, packed and unpacked.
IMPORT_ROOT = env_path("IMPORT_ROOT", VAR_DIR / "imports")
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 500 * 1024 * 1024)

# --- Background tasks (django-q2) -----------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")

Q_TIMEOUT = env_int("Q_TIMEOUT", 120)
Q_RETRY = env_int("Q_RETRY", 180)
Q_SLOW_TIMEOUT = env_int("Q_SLOW_TIMEOUT", 3600)
Q_SLOW_RETRY = env_int("Q_SLOW_RETRY", 3900)
for _timeout, _retry in ((Q_TIMEOUT, Q_RETRY), (Q_SLOW_TIMEOUT, Q_SLOW_RETRY)):
    # django-q2 re-delivers a task that was not acknowledged after `retry` seconds; a
    # retry shorter than the timeout would run a slow task twice.
    if _retry <= _timeout:
        raise ImproperlyConfigured(f"Q retry ({_retry}s) must be larger than timeout ({_timeout}s)")

Q_CLUSTER = {
    "name": env_str("Q_NAME", "memesense"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    # Recycle workers to return memory the ML libraries keep; max_rss is in kilobytes.
    "recycle": env_int("Q_RECYCLE", 200),
    "max_rss": env_int("Q_MAX_RSS", 2_000_000),
    "queue_limit": env_int("Q_QUEUE_LIMIT", 20),
    "bulk": 1,
    "save_limit": env_int("Q_SAVE_LIMIT", 500),
    "catch_up": False,
    "label": "Task queue",
    # Run tasks in the calling process (tests, debugging).
    "sync": env_bool("Q_SYNC", False),
    # Slow work (retraining, bulk reclassification) gets its own queue so it never delays
    # uploads: start it with Q_CLUSTER_NAME=slow python manage.py qcluster.
    "ALT_CLUSTERS": {
        "slow": {
            "workers": env_int("Q_SLOW_WORKERS", 1),
            "timeout": Q_SLOW_TIMEOUT,
            "retry": Q_SLOW_RETRY,
            "max_attempts": 1,
            "recycle": 1,
        },
    },
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# A meme still `processing` (or `pending`) this long after it started is assumed lost and
# is queued again by the sweep; it is given up after MEME_MAX_ATTEMPTS. No task outlives
# Q_TIMEOUT, so a meme processing for longer than that has lost its worker.
MEME_STALE_SECONDS = env_int("MEME_STALE_SECONDS", Q_TIMEOUT + 60)
MEME_MAX_ATTEMPTS = env_int("MEME_MAX_ATTEMPTS", 3)
MEME_SWEEP_MINUTES = env_int("MEME_SWEEP_MINUTES", 5)

# --- Cache ----------------------------------------------------------------------------------

# Throttle counters live here. The default (local memory) is per process: with several
# gunicorn processes each counts on its own. CACHE_URL=redis://host:6379/1 shares them;
# use another Redis database than the task broker's, since clearing a cache flushes it.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Retraining (moderation/learning, docs/moderation.md) ----------------------------------

# Below this many human labels of any class, retrain refuses and says how many are missing:
# folds and a gate of a handful of memes per class measure noise.
RETRAIN_MIN_LABELS_PER_CLASS = env_int("RETRAIN_MIN_LABELS_PER_CLASS", 20)
# A run `running` this long has lost its worker (no slow task outlives Q_SLOW_TIMEOUT); a run
# still `queued` this long was never queued or no slow worker took it. The sweep (every
# RETRAIN_SWEEP_MINUTES, on the default cluster's scheduler) marks such runs failed.
RETRAIN_RUNNING_SECONDS = env_int("RETRAIN_RUNNING_SECONDS", Q_SLOW_TIMEOUT + 300)
RETRAIN_QUEUED_SECONDS = env_int("RETRAIN_QUEUED_SECONDS", Q_SLOW_TIMEOUT + 300)
RETRAIN_SWEEP_MINUTES = env_int("RETRAIN_SWEEP_MINUTES", 5)

# --- REST API (classifier/api, docs/api.md) ------------------------------------------------

# Requests per user for each throttle scope, as DRF rates ("120/min", "10/s", "5000/day").
# Counters live in the default cache: per process with the local-memory default, shared by
# every web process once CACHE_URL points at Redis (below).
# The web upload form counts against the same "uploads" rate, in the same counter as the
# API; "password_reset" limits reset e-mails per client address.
API_THROTTLE_RATES = {
    "uploads": env_str("API_THROTTLE_UPLOADS", "120/min"),
    "classify": env_str("API_THROTTLE_CLASSIFY", "20/min"),
    "api": env_str("API_THROTTLE_DEFAULT", "1200/min"),
    "password_reset": env_str("PASSWORD_RESET_THROTTLE", "5/h"),
}
for _scope, _rate in API_THROTTLE_RATES.items():
    _count, _, _period = _rate.partition("/")
    if not (_count.isdigit() and _period[:1] in ("s", "m", "h", "d")):
        raise ImproperlyConfigured(f"API throttle rate for {_scope}: {_rate!r} is not N/s|m|h|d")
# POST /api/v1/classify/ classifies in the web process, so it takes smaller files.
API_CLASSIFY_MAX_BYTES = env_int("API_CLASSIFY_MAX_BYTES", 2 * 1024 * 1024)
# Whether /api/schema/ and /api/docs/ answer without a login (the data endpoints never do).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what makes DRF answer 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies are size- and depth-checked (classifier/api/parsers.py); uploads have
    # their own limited multipart parser on the views that take files.
    "DEFAULT_PARSER_CLASSES": [
        "classifier.api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["classifier.api.throttling.ScopedThrottle"],
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    # Anonymous throttles (password reset) count per client address. With None DRF would
    # trust any X-Forwarded-For a client sends, so one could dodge the limit by making
    # up addresses; 0 means REMOTE_ADDR, N the N-th address from the right of the header.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_PAGINATION_CLASS": "classifier.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "classifier.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Memesense API",
    # The long description (auth, versioning, errors) is added by classifier.api.schema.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "classifier.api.schema.add_description",
    ],
    "VERSION": "1.0.0",
    # Memes and webhook deliveries both have a `status`; each choice set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "classifier.api.schema.MEME_STATUS_CHOICES",
        "WebhookDeliveryStatusEnum": "classifier.api.schema.WEBHOOK_DELIVERY_STATUS_CHOICES",
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # classifier/converters.py: ids from 1 to 2**63 - 1; anything else is a 404.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Webhooks (classifier/webhooks, docs/integration.md) ------------------------------------

# Subscriptions and deliveries to loopback and private addresses are refused unless this
# is on (a receiver on the same machine or network, tests). Link-local addresses (the
# cloud metadata service), multicast and reserved ones are refused either way.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
WEBHOOK_CONNECT_TIMEOUT = env_int("WEBHOOK_CONNECT_TIMEOUT", 5)
WEBHOOK_READ_TIMEOUT = env_int("WEBHOOK_READ_TIMEOUT", 10)
# Attempts per delivery; retry n waits WEBHOOK_RETRY_BASE_SECONDS * 2**(n-1), give or take
# WEBHOOK_RETRY_JITTER of it. The defaults make 8 attempts over about two hours.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 60)
WEBHOOK_RETRY_JITTER = env_fraction("WEBHOOK_RETRY_JITTER", 0.2)
# A subscription whose deliveries have failed without a success for this long is disabled.
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 5 * 24 * 3600)
# How often the sweep sends due retries (and events whose fan-out task was lost).
WEBHOOK_SWEEP_MINUTES = env_int("WEBHOOK_SWEEP_MINUTES", 1)
# Events whose deliveries have all finished (succeeded or given up) are deleted, with their
# delivery log, after this many days.
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30)
# Public address of the site (https://memes.example.com): links in webhook bodies are
# absolute with it, paths without it.
SITE_URL = env_str("SITE_URL").rstrip("/")

# --- Metrics (/metrics, memesense_site/metrics.py) ------------------------------------------

# prometheus_client's multiprocess mode: every process (web workers, task workers) writes
# its samples under this directory and the web's /metrics adds them up, so one scrape
# covers the machine. Files of processes that are gone are removed when a server starts.
METRICS_DIR = env_path("METRICS_DIR", VAR_DIR / "metrics")
METRICS_DIR.mkdir(parents=True, exist_ok=True)
# Read by prometheus_client when it is first imported, which happens after the settings.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))
# When set, /metrics wants `Authorization: Bearer <token>`; empty: it answers anyone.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# A qcluster on a machine without the web serves its own samples on this port (0: off).
METRICS_PORT = env_int("METRICS_PORT", 0)

# --- Moderation -----------------------------------------------------------------------------

# How long a meme opened for review stays reserved for that moderator (seconds).
MODERATION_LEASE_SECONDS = env_int("MODERATION_LEASE_SECONDS", 300)
# How long a skipped meme stays out of the skipping moderator's queue (seconds).
MODERATION_SKIP_SECONDS = env_int("MODERATION_SKIP_SECONDS", 3600)
# The label set the moderation pages open on when none is chosen.
MODERATION_DEFAULT_LABEL_SET = env_str("MODERATION_DEFAULT_LABEL_SET", "sentiment")
# Share of decided memes sent back to the queue for a second, different moderator (blind),
# drawn by a hash of the meme's content; their pairs give the agreement on the dashboard.
DOUBLE_REVIEW_RATE = env_fraction("DOUBLE_REVIEW_RATE", 0.1)

# --- Security -------------------------------------------------------------------------------

# Every response, uploaded memes included, says nosniff: a browser never guesses a type.
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS=1 is the production switch: it turns on the redirect, secure cookies and HSTS
# below (each can still be set on its own). `manage.py check --deploy` is clean with it.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The preload directive only matters once the domain is submitted to the browsers' list.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets this header itself (Cloud Run, a load balancer);
    # without it, HTTPS=1 behind such a proxy redirects forever.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# /healthz shows the database's error text only to callers sending this value in the
# X-Health-Token header; empty (the default) shows it to no one (it is always logged).
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN")

# A Content-Security-Policy on every page (django-csp): scripts, styles and images only from
# this site, so an injected <script> or inline handler never runs. The pages keep their
# JavaScript in static/ for this reason. Swagger UI and ReDoc (drf-spectacular's templates)
# boot with an inline script, so their two pages are left out; they show the schema only.
# (Not named CSP_*: django-csp takes such settings for its old format and stops.)
_csp_report_uri = env_str("CSP_REPORT_URI")
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/", "/api/redoc/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    },
}

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
