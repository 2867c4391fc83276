"""The kinds every committee starts with (seeds 000–004): 党建攻关项目, 党员先锋工程, 挑战项目."""

DEFAULT_KINDS = ["党建攻关项目", "党员先锋工程", "挑战项目"]
CHALLENGE_KIND = "挑战项目"


def install_default_kinds(apps=None) -> None:
    """Create the default kinds that are missing (the data migration, and tests whose
    database flushes remove what migrations installed)."""
    if apps is None:
        from django.apps import apps
    kind_model = apps.get_model("projects", "ProjectKind")
    for order, name in enumerate(DEFAULT_KINDS):
        kind_model.objects.get_or_create(committee=None, name=name, defaults={"sort_order": order})
