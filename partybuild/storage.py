"""The media storage: a full disk is a clear error, not a server error and a stub.

Django's ``FileSystemStorage`` leaves the part it managed to write when the disk fills
up and raises ``OSError``. Here the stub is removed and a ``ValidationError`` says what
happened, so a form shows it (``call_service``) and the upload's service, which saves
the file before its row in one transaction, records nothing.
"""

import errno
import logging
import os

from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class MediaStorage(FileSystemStorage):
    full_message = _("The server's disk is full, so the file was not saved. Tell the administrator.")

    def _save(self, name, content):
        existed = os.path.lexists(self.path(name))
        try:
            return super()._save(name, content)
        except OSError as exc:
            if exc.errno not in FULL:
                raise
            if not existed and os.path.lexists(self.path(name)):
                os.remove(self.path(name))
            logger.error("media storage full: %s not saved (%s)", name, exc)
            raise ValidationError(self.full_message, code="disk_full") from exc
