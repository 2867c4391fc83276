"""Records that move through states (projects, suggestions, commitments …): the shared
shape of their workflows (STYLE.md, "Workflows").

Each app writes its allowed moves down as data next to its model (``Move``: from which
states, to which, who may, what it posts) and gives each move one service. A move
claims its from-state with a conditional ``UPDATE … WHERE state IN (…)`` and checks that
exactly one row changed (``claim``), so a double submit or two racing clicks move the
record once; it writes a transition row (``TransitionRecord``: who, when, from, to,
why) and posts or reverses its points through the ledger in the same transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class Move:
    """One allowed move of a workflow: its name, the states it leaves, the state it
    reaches, and a label for buttons and the timeline."""

    name: str
    sources: tuple[str, ...]
    target: str
    label: str


def move_named(moves: Iterable[Move], name: str) -> Move:
    for move in moves:
        if move.name == name:
            return move
    raise ValueError(f"no move {name!r}")


def claim(queryset: models.QuerySet, pk: int, move: Move, *, state_field: str = "state", **changes) -> bool:
    """Move the row ``pk`` from one of ``move.sources`` to ``move.target`` (and set
    ``changes``) in one conditional UPDATE. True when this call moved it; False when it
    was not in a state the move leaves — already moved by a concurrent request, say."""
    updated = queryset.filter(pk=pk, **{f"{state_field}__in": move.sources}).update(
        **{state_field: move.target}, **changes
    )
    return updated == 1


def refuse(move: Move, state_label: str) -> ValidationError:
    """The error for a move the record's state does not allow."""
    return ValidationError(
        _("%(move)s is not possible now: the record is %(state)s.") % {"move": move.label, "state": state_label}
    )


class TransitionRecord(models.Model):
    """Who moved a record from which state to which, when and why. Each workflow's
    transition model adds the foreign key to its record."""

    move = models.CharField(gettext_lazy("move"), max_length=30)
    from_state = models.CharField(gettext_lazy("from"), max_length=20)
    to_state = models.CharField(gettext_lazy("to"), max_length=20)
    reason = models.TextField(gettext_lazy("reason"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(gettext_lazy("at"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]
