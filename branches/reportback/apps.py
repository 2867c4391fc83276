from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportbackConfig(AppConfig):
    name = "branches.reportback"
    label = "reportback"
    verbose_name = _("Monthly report-back")
