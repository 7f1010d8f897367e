"""gunicorn settings for the Memesense web process: `gunicorn memesense_site.wsgi`.

gunicorn reads this file from the working directory by itself. Every value comes from
the environment (listed in .env.example); a command-line flag still wins over it.
The web process only validates, stores and queues uploads: classification runs in the
django-q2 workers, so requests are short and a few threads per process absorb the time
spent waiting on the database and the disk.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


# Cloud Run and most container platforms say which port to listen on in $PORT.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8080)}"

workers = _int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# A request that takes longer than this is stuck: its worker is killed and replaced.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the idle timeout of the load balancer in front would cut requests; shorter
# keeps idle connections from holding threads.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Replace each worker after about this many requests, staggered by the jitter so they do
# not all restart at once: returns memory Pillow and the ML libraries keep.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# The workers' heartbeat files: a container's /tmp may be a slow overlay disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Which proxies may set X-Forwarded-* (Cloud Run's front end: "*").
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# gunicorn's runtime control socket (gunicornc) lives in $HOME: not needed in a container,
# and two servers on one machine would share it.
control_socket_disable = True


def on_starting(server) -> None:
    """Before the workers fork: drop the metric files of processes from a previous run."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memesense_site.settings")
    from django.conf import settings

    # Loading the settings first points prometheus_client at METRICS_DIR before it is
    # imported: the workers fork from this process and inherit the module as it is.
    directory = settings.METRICS_DIR
    from classifier.metrics import metrics_dir_clean

    metrics_dir_clean(directory)


def child_exit(server, worker) -> None:
    """A worker that exited keeps its counts; prometheus_client forgets its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
