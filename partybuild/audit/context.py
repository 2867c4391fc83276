"""Who made a change, from where: the context pghistory attaches to every event.

* A request: ``middleware.AuditContextMiddleware`` — user id, user name, address (as the
  login throttle sees it, ``throttle.client_ip``), method and path.
* A Celery task: ``task_prerun`` / ``task_postrun`` — the task's name and id (inside a
  request when it runs eagerly: added to the request's context).
* A management command (``manage.py shell``, ``seed_demo``, ``grade_month`` …): the
  command's name, set for the whole database session when it connects.

pghistory passes the context as transaction-local settings in front of each writing
statement, which only PostgreSQL understands: on SQLite all of this does nothing.
"""

import contextlib
import sys
import uuid

import pghistory
from celery import signals as celery_signals
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.backends.signals import connection_created

# Commands whose work is requests or tasks with their own context.
SERVING_COMMANDS = {"runserver", "runworker", "celery", "test", "testserver"}


def enabled() -> bool:
    return connection.vendor == "postgresql"


def request_context(request) -> dict:
    from partybuild.throttle import client_ip

    user = getattr(request, "user", None)
    authenticated = bool(user is not None and user.is_authenticated)
    return {
        "user": user.pk if authenticated else None,
        "username": user.get_username() if authenticated else None,
        "ip": client_ip(request),
        "method": request.method,
        "path": request.path[:500],
    }


def acting_as(user, *, ip: str, path: str, method: str = "POST"):
    """The context a request of ``user`` from ``ip`` to ``path`` would attach: for the
    demo, which writes through the services what its users would have done by hand."""
    if not enabled():
        return contextlib.nullcontext()
    return pghistory.context(user=user.pk, username=user.get_username(), ip=ip, method=method, path=path)


# --- Celery -------------------------------------------------------------------------------

_task_contexts: dict[str, pghistory.context] = {}


def _task_started(task_id=None, task=None, **_kwargs) -> None:
    if not enabled() or task_id is None:
        return
    ctx = pghistory.context(task=getattr(task, "name", None), task_id=task_id)
    ctx.__enter__()
    _task_contexts[task_id] = ctx


def _task_finished(task_id=None, **_kwargs) -> None:
    ctx = _task_contexts.pop(task_id, None)
    if ctx is not None:
        ctx.__exit__(None, None, None)


# --- management commands ------------------------------------------------------------------


def command_name(argv: list[str]) -> str | None:
    """The management command this process runs, or None (a server, a worker, pytest)."""
    if len(argv) < 2 or not argv[0].endswith("manage.py"):
        return None
    name = argv[1]
    return None if name.startswith("-") or name in SERVING_COMMANDS else name


def _session_context(sender, connection, **_kwargs) -> None:
    """Attribute every change of a management command's session to the command."""
    if connection.vendor != "postgresql":
        return
    name = command_name(sys.argv)
    if name is None:
        return
    metadata = DjangoJSONEncoder().encode({"command": name})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, false), set_config('pghistory.context_metadata', %s, false)",
            [str(uuid.uuid4()), metadata],
        )


def connect() -> None:
    celery_signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="audit_task_started")
    celery_signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="audit_task_finished")
    connection_created.connect(_session_context, weak=False, dispatch_uid="audit_session_context")
