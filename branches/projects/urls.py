"""Each views module owns its own ``urlpatterns``; this joins them under one namespace."""

from .views import challenges, committee, projects

app_name = "projects"

urlpatterns = [*challenges.urlpatterns, *committee.urlpatterns, *projects.urlpatterns]
