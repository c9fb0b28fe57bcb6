from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("countries/<str:iso2>/", views.country, name="country"),
    path("alerts/<uuid:alert_id>/", views.alert, name="alert"),
    path("alerts/<uuid:alert_id>/progress/", views.alert_progress, name="alert_progress"),
    path("alerts/<uuid:alert_id>/to-phone.csv", views.alert_to_phone, name="alert_to_phone"),
]
