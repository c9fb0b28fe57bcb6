from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Staff and posts")

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from accounts import demo, selectors
        from core import audit
        from core import demo as core_demo

        core_demo.register("staff", demo.seed_posts_and_staff, order=10)
        audit.register_post_resolver(
            lambda user: ",".join(selectors.post_codes_of_memberships(user=user))
        )
        user_locked_out.connect(audit.record_lockout, dispatch_uid="core.audit.locked_out")
