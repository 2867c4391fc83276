"""Each views module owns its own ``urlpatterns``; this joins them under one namespace."""

from .views import entries, rules

app_name = "ledger"

urlpatterns = [*rules.urlpatterns, *entries.urlpatterns]
