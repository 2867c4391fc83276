"""Each views module owns its own ``urlpatterns``; this joins them under one namespace."""

from .views import activities, compliance, qr

app_name = "activities"

urlpatterns = [*activities.urlpatterns, *compliance.urlpatterns, *qr.urlpatterns]
