from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "members.ledger"
    label = "ledger"
    verbose_name = _("Points ledger")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Rule

        # Rules are cached per version for the attendance click (``attendance_rules``);
        # rules are not edited in place, but one saved anyway (a script, a test) must
        # not leave the cache behind.
        def forget(sender, instance: Rule, **kwargs) -> None:
            from .rule_cache import attendance_rules_forget

            attendance_rules_forget(version_id=instance.version_id)

        post_save.connect(forget, sender=Rule, dispatch_uid="ledger.attendance_rules_forget")
        post_delete.connect(forget, sender=Rule, dispatch_uid="ledger.attendance_rules_forget.delete")
