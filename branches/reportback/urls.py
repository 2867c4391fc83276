from .views import urlpatterns as view_patterns

app_name = "reportback"

urlpatterns = [*view_patterns]
