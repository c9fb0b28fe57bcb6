"""Run by the crash-after-commit scenario as a process of its own: publish Mali at level 4
through the advisory services, and die (SIGKILL) the instant the publication commits, before
this process's own dispatch of the level change can run. Only the outbox row is left."""

import os
import signal

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consular.settings")
    django.setup()
    from django.db import transaction

    from tests.faults import harness

    with transaction.atomic():
        # Registered before the publication's own callbacks, so it runs first at the commit.
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        harness.publish_level_change()


if __name__ == "__main__":
    main()
