from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import crypto


class Command(BaseCommand):
    help = (
        "Encrypt every encrypted field again with the first key of FIELD_ENCRYPTION_KEYS and "
        "hash every keyed hash again with the first key of FIELD_HASH_KEYS. Run it after "
        "putting a new key first; drop the old key once it has finished. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=500, help="Rows rewritten per transaction."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in crypto.encrypted_models():
            rows = crypto.rows_reencrypt(model, chunk_size=options["chunk_size"])
            total += rows
            self.stdout.write(f"{model._meta.label}: {rows} rows")
        self.stdout.write(f"Done: {total} rows encrypted and hashed with the first keys.")
