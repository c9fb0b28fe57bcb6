import os
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.management import call_command

from core.checks import catalogues_uncompiled, locale_dirs


def _catalogue(locale_dir: Path) -> Path:
    catalogue = locale_dir / "fr" / "LC_MESSAGES" / "django.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n')
    return catalogue


def _deploy_errors() -> list[checks.CheckMessage]:
    return [
        message
        for message in checks.run_checks(
            tags=[checks.Tags.translation], include_deployment_checks=True
        )
        if message.id == "core.E002"
    ]


def test_a_catalogue_never_compiled_fails_the_deploy_check(tmp_path, settings):
    catalogue = _catalogue(tmp_path)
    settings.LOCALE_PATHS = [tmp_path]

    errors = _deploy_errors()

    assert [error for error in errors if str(catalogue) in error.msg]


def test_a_catalogue_changed_after_it_was_compiled_is_stale(tmp_path):
    catalogue = _catalogue(tmp_path)
    catalogue.with_suffix(".mo").write_bytes(b"")
    compiled_at = catalogue.with_suffix(".mo").stat().st_mtime
    os.utime(catalogue, (compiled_at + 60, compiled_at + 60))

    assert catalogues_uncompiled([tmp_path]) == [catalogue]


def test_a_catalogue_compiled_since_it_changed_is_current(tmp_path):
    catalogue = _catalogue(tmp_path)
    catalogue.with_suffix(".mo").write_bytes(b"")
    compiled_at = catalogue.with_suffix(".mo").stat().st_mtime
    os.utime(catalogue, (compiled_at - 60, compiled_at - 60))

    assert catalogues_uncompiled([tmp_path]) == []


def test_the_build_step_compiles_every_catalogue_the_project_has(monkeypatch):
    # What `make build` (and `make messages`) runs, from the checkout's root.
    monkeypatch.chdir(settings.BASE_DIR)
    call_command("compilemessages", ignore_patterns=[".venv"], verbosity=0)

    assert _deploy_errors() == []


def test_the_check_reads_every_catalogue_of_the_project():
    catalogues = [
        path
        for path in Path(settings.BASE_DIR).glob("**/locale/*/LC_MESSAGES/*.po")
        if ".venv" not in path.relative_to(settings.BASE_DIR).parts
    ]

    assert catalogues
    assert all(path.parent.parent.parent in locale_dirs() for path in catalogues)
