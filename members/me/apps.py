from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeConfig(AppConfig):
    name = "members.me"
    label = "me"
    verbose_name = _("Member logins and the member's own pages")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the login receiver)
