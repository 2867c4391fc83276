"""Pages: work in progress."""

urlpatterns = []
