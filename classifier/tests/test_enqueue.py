"""Enqueueing a meme's classification: on the request's own database connection."""

import pytest
from django.db import connection
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from classifier import queue, services

# Outside a test transaction, as an upload's on_commit callback runs. serialized_rollback keeps
# the rows the data migrations made, and so the content types, for later transactional tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def orm_broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "REDIS", None)


def open_connection():
    connection.ensure_connection()
    return connection.connection


def test_it_enqueues_on_the_connection_it_already_has(orm_broker):
    # django-q2's own ORM broker closes it (CONN_MAX_AGE=0) and the next query reconnects.
    # On SQLite the test database lives in memory and is never closed, so this can only
    # fail on PostgreSQL, where CI runs the suite too.
    before = open_connection()
    services.meme_enqueue_classification(meme_id=41)
    services.meme_enqueue_classification(meme_id=42)
    assert connection.connection is before
    payloads = [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id")]
    assert [(p["func"], p["args"]) for p in payloads] == [
        (services.CLASSIFY_TASK, (41,)),
        (services.CLASSIFY_TASK, (42,)),
    ]
    assert {row.key for row in OrmQ.objects.all()} == {Conf.CLUSTER_NAME}


def test_it_keeps_one_broker_per_process_and_configuration(orm_broker, monkeypatch):
    first = queue.enqueue_broker()
    assert queue.enqueue_broker() is first
    assert isinstance(first, queue.EnqueueOrmBroker)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:9/0")
    other = queue.enqueue_broker()
    assert other is not first and not isinstance(other, queue.EnqueueOrmBroker)
