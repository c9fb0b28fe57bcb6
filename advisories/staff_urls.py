from django.urls import path

from advisories import staff_views

app_name = "advisories-staff"

urlpatterns = [
    path("", staff_views.review_list, name="list"),
    path("<uuid:advisory_id>/", staff_views.review_page, name="review"),
]
