from django.urls import path

from departures import views

app_name = "departures"

urlpatterns = [
    path("departure/<str:token>/", views.intent, name="intent"),
    path(
        "departure/<str:token>/offers/<uuid:offer_id>/",
        views.offer_answer,
        name="offer_answer",
    ),
]
