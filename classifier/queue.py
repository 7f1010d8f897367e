"""The broker uploads are enqueued with: one per process, without reconnecting the database.

`django_q.tasks.async_task` builds a new broker for every task, and django-q2's ORM broker
calls `django.db.close_old_connections()` both when it is built and when it enqueues, from
outside a transaction (where `on_commit` callbacks run). With `CONN_MAX_AGE=0` that closes
the request's database connection and opens a new one, twice per upload: about half of an
upload's CPU time in the web process (docs/benchmarks.md). That call is there for the
cluster's long-lived broker thread, whose connection may have gone stale; a web request's
connection was opened for this request and Django closes it when the request ends. The
Redis broker, built anew, opens a new connection pool each time.

So the web process (and anything else that enqueues) passes `async_task` a broker kept for
the process: for the ORM, a subclass that writes the queue row on the current connection;
for Redis, the stock broker, whose pool then lives as long as the process. The cluster
itself still builds django-q2's own broker from Q_CLUSTER, untouched.
"""

import os
import threading

from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ


class EnqueueOrmBroker(ORM):
    """django-q2's ORM broker for enqueueing only: no connection closed on the way."""

    def __init__(self, list_key: str | None = None) -> None:
        self.list_key = list_key or Conf.CLUSTER_NAME
        self.connection = OrmQ.objects.using(Conf.ORM)
        self.cache = self.get_cache()
        self._info = None

    def enqueue(self, task) -> int:
        # As ORM.enqueue, on the connection this thread already has.
        package = OrmQ.objects.using(Conf.ORM).create(
            key=self.list_key, payload=task, lock=timezone.now()
        )
        return package.pk


_brokers: dict[tuple, Broker] = {}
_lock = threading.Lock()


def enqueue_broker() -> Broker:
    """The broker this process enqueues tasks for the default cluster with.

    Kept per process id, as a broker's Redis pool must not cross a fork (gunicorn,
    qcluster), and per broker configuration, so a changed one is never served stale.
    """
    key = (os.getpid(), Conf.CLUSTER_NAME, Conf.ORM, repr(Conf.REDIS))
    with _lock:
        broker = _brokers.get(key)
        if broker is None:
            broker = EnqueueOrmBroker() if Conf.ORM else get_broker()
            _brokers.clear()
            _brokers[key] = broker
        return broker
