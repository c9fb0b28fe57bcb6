from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from django.contrib.auth import signals
        from django.core import checks

        from core import audit
        from core.checks import encryption_keys

        checks.register(encryption_keys)

        signals.user_logged_in.connect(audit.record_login, dispatch_uid="core.audit.login")
        signals.user_login_failed.connect(
            audit.record_login_failure, dispatch_uid="core.audit.login_failed"
        )
