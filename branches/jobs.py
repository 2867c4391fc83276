"""Putting a job on the queue, or saying clearly that the queue is unavailable.

A job is a row (a grading run, a report) and a message on the broker. The row is
committed first (the worker must see it), then the message is published; when the
broker cannot be reached the row is taken back (``undo``) and ``QueueUnavailable``
raised, so nothing is left waiting for a message that was never sent. Like Celery's
``delay_on_commit``, the message goes once the surrounding transaction commits
(immediately in autocommit, as in a view).
"""

import logging
from collections.abc import Callable

import redis.exceptions
from celery import Task
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# What publishing raises when the broker (or Redis as the result backend) is down.
QUEUE_ERRORS = (BrokerError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class QueueUnavailable(ValidationError):
    """The broker could not be reached: the job was not started and its row is gone."""

    def __init__(self):
        super().__init__(
            _(
                "The job queue is unavailable at the moment, so the job was not started and nothing "
                "was recorded. Try again in a few minutes; if it persists, tell the administrator."
            ),
            code="queue_unavailable",
        )


def enqueue(task: Task, *args, undo: Callable[[], object]) -> None:
    """Publish ``task(*args)`` once the current transaction commits; if the broker is
    unavailable, call ``undo`` and raise ``QueueUnavailable``."""

    def publish() -> None:
        try:
            # The job's state is its row: no result to wait for, so the web process does
            # not subscribe to one (Celery's Redis result consumer gives up for good when
            # Redis is down at that moment).
            task.apply_async(args, ignore_result=True)
        except QUEUE_ERRORS:
            logger.exception("the job queue is unavailable: %s%r not sent", task.name, args)
            undo()
            raise QueueUnavailable() from None

    transaction.on_commit(publish)
