from django.urls import path

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)

from . import views
from .imports import views as import_views

app_name = "members"

urlpatterns = [
    path("", views.roster, name="roster"),
    path("new/", views.member_create, name="create"),
    path("<id:pk>/", views.member_detail, name="detail"),
    path("<id:pk>/edit/", views.member_edit, name="edit"),
    path("<id:pk>/transfer/", views.member_transfer, name="transfer"),
    path("<id:pk>/leave/", views.member_leave, name="leave"),
    path("<id:pk>/honours/new/", views.honour_add, name="honour_add"),
    path("<id:pk>/honours/<id:honour_pk>/revoke/", views.honour_revoke, name="honour_revoke"),
    path("committee/<id:unit_pk>/", views.committee, name="committee"),
    path("group-leader/<id:unit_pk>/", views.group_leader, name="group_leader"),
    path("roles/<id:role_pk>/end/", views.role_end, name="role_end"),
    *import_views.urlpatterns,
]
