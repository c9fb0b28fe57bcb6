from django.urls import path

from advisories import views
from advisories.feeds import AdvisoryFeed
from advisories.public_pages import published_page

app_name = "advisories"

urlpatterns = [
    path("", views.advisory_list, name="list"),
    path("feed.atom", published_page(AdvisoryFeed()), name="feed"),
    path("<str:code>/", views.country_page, name="country"),
    path("<str:code>/history/", views.history_page, name="history"),
    path("<str:code>/compare/<uuid:old_id>/<uuid:new_id>/", views.compare_page, name="compare"),
    path("<str:code>/cap.xml", views.cap_feed, name="cap"),
]
