from django.urls import path

from . import views
from .imports import views as import_views

app_name = "members"

urlpatterns = [
    path("", views.roster, name="roster"),
    path("new/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/transfer/", views.member_transfer, name="transfer"),
    path("<int:pk>/leave/", views.member_leave, name="leave"),
    path("<int:pk>/honours/new/", views.honour_add, name="honour_add"),
    path("<int:pk>/honours/<int:honour_pk>/revoke/", views.honour_revoke, name="honour_revoke"),
    path("committee/<int:unit_pk>/", views.committee, name="committee"),
    path("group-leader/<int:unit_pk>/", views.group_leader, name="group_leader"),
    path("roles/<int:role_pk>/end/", views.role_end, name="role_end"),
    *import_views.urlpatterns,
]
