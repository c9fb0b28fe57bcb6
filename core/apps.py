from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from django.contrib.auth import signals
        from django.core import checks
        from django.db.models import Field, ForeignObject

        from core import audit
        from core.checks import encryption_keys, translations_compiled
        from core.lookups import AnyOf

        checks.register(encryption_keys)
        checks.register(translations_compiled, checks.Tags.translation, deploy=True)
        # Related fields keep lookups of their own: a foreign key's ids need it there too.
        for field_class in (Field, ForeignObject):
            field_class.register_lookup(AnyOf)

        signals.user_logged_in.connect(audit.record_login, dispatch_uid="core.audit.login")
        signals.user_login_failed.connect(
            audit.record_login_failure, dispatch_uid="core.audit.login_failed"
        )
