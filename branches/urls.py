from django.urls import path

import branches.converters  # noqa: F401  (registers the <id:>, <year:> and <month:> converters)

from . import views

app_name = "branches"

urlpatterns = [
    path("", views.unit_tree, name="tree"),
    path("<id:pk>/", views.unit_detail, name="unit_detail"),
    path("<id:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("<id:pk>/new/", views.unit_create, name="unit_create"),
    path("<id:pk>/term/", views.term_start, name="term_start"),
    path("<id:pk>/months/", views.committee_months, name="months"),
    path("<id:pk>/tracking/", views.committee_tracking, name="tracking"),
    path("<id:pk>/titles/new/", views.title_award, name="title_award"),
    path("<id:pk>/titles/<id:title_pk>/withdraw/", views.title_withdraw, name="title_withdraw"),
]
