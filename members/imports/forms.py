from django import forms
from django.utils.translation import gettext_lazy as _

from branches.forms import CrispyForm

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class RosterUploadForm(CrispyForm):
    submit_label = _("Check the roster")
    file = forms.FileField(
        label=_("roster (.xlsx)"),
        help_text=_("Use the template's columns; nothing is written before you confirm the preview."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // 2**20})
        return upload
