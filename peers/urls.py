from django.urls import path

from peers import views

app_name = "peers"

urlpatterns = [
    path("staff/peers/", views.overview, name="overview"),
    path("staff/peers/<slug:country_code>/", views.country, name="country"),
]
