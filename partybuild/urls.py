from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .accounts import views as accounts

admin.site.site_header = admin.site.site_title = "partybuild"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/login/code/", accounts.login_code, name="login_code"),
    path("accounts/two-factor/", accounts.two_factor, name="two_factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("branches.urls")),
    path("members/", include("members.urls")),
    path("ledger/", include("members.ledger.urls")),
    path("commitments/", include("members.commitments.urls")),
    path("activities/", include("branches.activities.urls")),
    path("reviews/", include("members.reviews.urls")),
    path("projects/", include("branches.projects.urls")),
    path("reportback/", include("branches.reportback.urls")),
    path("grading/", include("branches.grading.urls")),
    path("reports/", include("branches.reports.urls")),
    path("suggestions/", include("members.suggestions.urls")),
    path("me/", include("members.me.urls")),
    path("reminders/", include("branches.notifications.urls")),
    path("audit/", include("partybuild.audit.urls")),
    # One way in: the admin's own login would skip the two-factor code.
    path("admin/login/", accounts.admin_login),
    path("admin/", admin.site.urls),
]
