from branches.links import rule

from .access import can_read_audit


@rule("audit:events")
def _events(user, **_kwargs) -> bool:
    return can_read_audit(user)
