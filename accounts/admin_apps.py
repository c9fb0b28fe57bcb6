from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """Installed instead of `django.contrib.admin`: makes `admin.site` the staff site, which
    requires a second factor (accounts.admin_site)."""

    default_site = "accounts.admin_site.StaffAdminSite"
