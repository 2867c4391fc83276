"""What the roster import keeps between upload and confirm (registered through
``members.models``, so it belongs to the members app)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RosterUpload(models.Model):
    """A roster workbook read once, at upload: the template's columns of its data rows,
    kept for the uploader until they confirm it or it expires. Preview and confirm check
    these rows against the database as it is then; the workbook itself is not kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    # Column keys found in the header, in template order.
    columns = models.JSONField()
    # [[Excel row number, [cell value per column]], ...]; dates as ISO strings.
    rows = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("roster upload")
        verbose_name_plural = _("roster uploads")

    def __str__(self) -> str:
        return self.file_name or self.token
