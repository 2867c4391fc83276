"""Each views module owns its own ``urlpatterns``; this joins them under one namespace."""

from .views import exports, month, pdfs

app_name = "reports"

urlpatterns = [*exports.urlpatterns, *pdfs.urlpatterns, *month.urlpatterns]
