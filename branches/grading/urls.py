"""Each views module owns its own ``urlpatterns``; this joins them under one namespace."""

from .views import annual, boards, groups, inputs, preview, publication, runs

app_name = "grading"

urlpatterns = [
    *runs.urlpatterns,
    *inputs.urlpatterns,
    *publication.urlpatterns,
    *boards.urlpatterns,
    *annual.urlpatterns,
    *groups.urlpatterns,
    *preview.urlpatterns,
]
