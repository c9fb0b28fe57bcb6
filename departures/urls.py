from django.urls import path

from departures import staff_views, views

app_name = "departures"

urlpatterns = [
    path("departure/<str:token>/", views.intent, name="intent"),
    path(
        "departure/<str:token>/offers/<uuid:offer_id>/",
        views.offer_answer,
        name="offer_answer",
    ),
    path(
        "departure/<str:token>/offers/<uuid:offer_id>/arrived/",
        views.offer_arrived,
        name="offer_arrived",
    ),
    path("staff/departures/", staff_views.operation_list, name="operation_list"),
    path(
        "staff/departures/<uuid:operation_id>/",
        staff_views.operation_board,
        name="operation_board",
    ),
    path(
        "staff/departures/options/<uuid:option_id>/manifest/",
        staff_views.manifest,
        name="manifest",
    ),
    path(
        "staff/departures/options/<uuid:option_id>/manifest.csv",
        staff_views.manifest_csv,
        name="manifest_csv",
    ),
    path(
        "staff/departures/options/<uuid:option_id>/checkin/",
        staff_views.checkin,
        name="checkin",
    ),
]
