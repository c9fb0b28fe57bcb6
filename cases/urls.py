from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("safety/<str:token>/", views.respond, name="respond"),
    path("safety/<str:token>/safe/", views.respond_safe, name="respond_safe"),
    path("safety/<str:token>/help/", views.respond_help, name="respond_help"),
    path("help/<str:token>/", views.ask_help, name="ask_help"),
    path("staff/checks/", views.check_list, name="check_list"),
    path("staff/checks/new/", views.check_new, name="check_new"),
    path("staff/checks/<uuid:check_id>/", views.check_board_view, name="check_board"),
    path(
        "staff/checks/<uuid:check_id>/progress/",
        views.check_progress_fragment,
        name="check_progress",
    ),
    path("staff/checks/<uuid:check_id>/edit/", views.check_edit, name="check_edit"),
    path("staff/checks/<uuid:check_id>/export.csv", views.check_export, name="check_export"),
    path("staff/cases/", views.case_queue, name="case_queue"),
    path("staff/cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
]
