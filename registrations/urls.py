from django.urls import path

from registrations import views

app_name = "registrations"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/thanks/", views.register_done, name="register_done"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("manage/", views.manage_request, name="manage_request"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/edit/", views.manage_edit, name="manage_edit"),
    path("manage/<str:token>/trips/new/", views.trip_new, name="trip_new"),
    path(
        "manage/<str:token>/presences/<uuid:presence_id>/leave/",
        views.presence_leave,
        name="presence_leave",
    ),
    path("manage/<str:token>/phone/", views.verify_phone, name="verify_phone"),
    path("manage/<str:token>/confirm/", views.confirm, name="confirm"),
    path("manage/<str:token>/resend-email/", views.resend_email, name="resend_email"),
    path("manage/<str:token>/export.json", views.export, name="export"),
    path("manage/<str:token>/delete/", views.delete, name="delete"),
]
