"""The attendance rules of a rule set version, kept in the cache: every attendance click
needs them, and a version's rules are fixed once it exists."""

from django.core.cache import cache

from .models import Rule, RuleSetVersion, Source


def _attendance_rules_key(version: RuleSetVersion) -> str:
    # The creation time too: a database rebuilt with the same ids (the tests) never
    # reads another database's rules.
    return f"ledger:attendance-rules:{version.pk}:{version.created_at.timestamp()}"


ATTENDANCE_RULES_SECONDS = 24 * 3600


def attendance_rules(*, version: RuleSetVersion) -> list[Rule]:
    """The attendance rules of ``version``. A version's rules are fixed once it exists
    (a change makes a new version; the admin shows rules read-only), so they are kept
    in the cache per version and every attendance click is spared the query; saving or
    deleting a rule forgets its version's (``attendance_rules_forget``)."""
    key = _attendance_rules_key(version)
    rules = cache.get(key)
    if rules is None:
        rules = list(version.rules.filter(source=Source.ATTENDANCE))
        cache.set(key, rules, ATTENDANCE_RULES_SECONDS)
    return rules


def attendance_rules_forget(*, version_id: int) -> None:
    version = RuleSetVersion.objects.filter(pk=version_id).only("pk", "created_at").first()
    if version is not None:
        cache.delete(_attendance_rules_key(version))
