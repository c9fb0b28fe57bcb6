"""Personal data encrypted at rest, and keyed hashes to find a row by it.

Encrypted fields store a Fernet token (AES-128-CBC with an HMAC-SHA256 tag: a changed byte is
refused, not decrypted into something else) under the keys of `FIELD_ENCRYPTION_KEYS`; the first
key encrypts, every key decrypts. Each encryption draws a fresh IV, so equal values give
different tokens: an encrypted column cannot be searched, sorted or joined on. A row is found
by a `KeyedHashField` instead: HMAC-SHA256, under `FIELD_HASH_KEYS`, of the normalised value of
another field (lower-cased email, E.164 phone). Lookups try every hash key, so rows written
before a rotation are still found until `rotate_encryption_keys` rewrites them.

An empty string is stored empty and NULL stays NULL: whether a citizen gave an emergency
contact, say, shows; what they gave does not. Queries rely on it (`~Q(phone="")`).
"""

import binascii
import datetime
import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

HASH_KEY_MIN_LENGTH = 32


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys if key.strip()])
    except (ValueError, binascii.Error):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (see .env.example)."
        ) from None


def _cipher() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return _cipher().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        # A missing key after a rotation, or a value written without encryption.
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS."
        ) from None


def _hash_keys() -> list[bytes]:
    keys = [key.strip().encode() for key in settings.FIELD_HASH_KEYS if key.strip()]
    if not keys or any(len(key) < HASH_KEY_MIN_LENGTH for key in keys):
        raise ImproperlyConfigured(
            f"FIELD_HASH_KEYS needs keys of at least {HASH_KEY_MIN_LENGTH} characters."
        )
    return keys


def keys_check() -> None:
    """Raise ImproperlyConfigured if either list of keys is unusable."""
    _cipher()
    _hash_keys()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """E.164 when the number parses (providers and forms write it in several ways)."""
    value = value.strip()
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


NORMALISERS = {"email": normalise_email, "phone": normalise_phone}


def _hmac(key: bytes, value: str, kind: str) -> str:
    # The kind is part of the message: an email and a phone never share a hash.
    message = f"{kind}\x00{NORMALISERS[kind](value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def keyed_hash(value: str, *, kind: str) -> str:
    """The hash written for `value` (first hash key); empty for an empty value."""
    if not value:
        return ""
    return _hmac(_hash_keys()[0], value, kind)


def keyed_hashes(value: str, *, kind: str) -> list[str]:
    """Every hash `value` may be stored under, one per hash key: for `<field>_hash__in=`."""
    if not value:
        return []
    return [_hmac(key, value, kind) for key in _hash_keys()]


class _EmptyOnlyExact(Exact):
    """`field=""` works (empty is stored empty); any other value could never match a token."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                "An encrypted field can only be compared with ''; look rows up by a keyed hash."
            )
        return super().get_prep_lookup()


class EncryptedMixin(models.Field):
    """Encrypts the value on its way to the database and decrypts it on its way back.

    `max_length` still validates the clear value; the column is text, as tokens are longer.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or value == "":
            return value
        return self.from_text(decrypt(value))

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if hasattr(value, "as_sql"):  # an expression: the database computes the value
            return value
        value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(self.to_text(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class EncryptedCharField(EncryptedMixin, models.CharField):
    pass


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    pass


class EncryptedDateField(EncryptedMixin, models.DateField):
    """A date kept as its encrypted ISO form."""

    def to_text(self, value: Any) -> str:
        return str(value.isoformat())

    def from_text(self, text: str) -> datetime.date:
        return datetime.date.fromisoformat(text)


class KeyedHashField(models.CharField):
    """HMAC-SHA256 of another field's normalised value, derived whenever the row is saved (as
    `auto_now` derives a timestamp), so no code path can store a value with a stale hash.
    `QuerySet.update()` and `save(update_fields=...)` without this field skip it."""

    def __init__(self, *args: Any, source: str, kind: str, **kwargs: Any) -> None:
        if kind not in NORMALISERS:
            raise ValueError(f"kind must be one of {sorted(NORMALISERS)}")
        self.source = source
        self.kind = kind
        kwargs["max_length"] = 64
        kwargs["editable"] = False
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"], kwargs["editable"]
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = keyed_hash(getattr(model_instance, self.source) or "", kind=self.kind)
        setattr(model_instance, self.attname, value)
        return value


# --- Rewriting stored values --------------------------------------------------------------


def _rewritten_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedMixin | KeyedHashField)
    ]


def encrypted_models() -> list[type[models.Model]]:
    """Every installed model with an encrypted field, found by the fields' class."""
    return [
        model
        for model in apps.get_models()
        if any(isinstance(field, EncryptedMixin) for field in model._meta.concrete_fields)
    ]


def _rewrite(
    model: type[models.Model],
    *,
    chunk_size: int,
    load: Callable[[QuerySet[Any], int], list[models.Model]],
) -> int:
    """Save the encrypted and hash fields of every row again, a chunk per transaction, in
    primary-key order; each chunk is locked while it is rewritten, so a concurrent edit
    is neither lost nor overwritten with an older value."""
    fields = _rewritten_fields(model)
    hashes = [field for field in fields if isinstance(field, KeyedHashField)]
    done = 0
    last: Any = None
    while True:
        with transaction.atomic():
            rows = model._base_manager.select_for_update().order_by("pk")
            if last is not None:
                rows = rows.filter(pk__gt=last)
            batch = load(rows, chunk_size)
            if not batch:
                return done
            for row in batch:
                for field in hashes:
                    field.pre_save(row, add=False)
            model._base_manager.bulk_update(batch, [field.name for field in fields])
        done += len(batch)
        last = batch[-1].pk


def rows_reencrypt(model: type[models.Model], *, chunk_size: int = 500) -> int:
    """Encrypt every value of the model again under the first key and hash it again under the
    first hash key (rows are read with any key). Running it twice is harmless."""
    names = ["pk", *(field.name for field in _rewritten_fields(model))]
    return _rewrite(
        model, chunk_size=chunk_size, load=lambda rows, size: list(rows.only(*names)[:size])
    )


def rows_encrypt_clear_values(model: type[models.Model], *, chunk_size: int = 500) -> int:
    """For a migration that has just turned clear columns into encrypted ones: encrypt the
    values they still hold in clear, and fill the keyed hashes."""
    encrypted = [field for field in _rewritten_fields(model) if isinstance(field, EncryptedMixin)]
    clear = {f"clear_{field.name}": Cast(field.name, models.TextField()) for field in encrypted}

    def load(rows: QuerySet[Any], size: int) -> list[models.Model]:
        loaded = []
        for values in rows.values("pk", **clear)[:size]:
            row = model(pk=values["pk"])
            for field in encrypted:
                text = values[f"clear_{field.name}"]
                setattr(row, field.attname, field.to_python(text) if text else text)
            loaded.append(row)
        return loaded

    return _rewrite(model, chunk_size=chunk_size, load=load)


def rows_decrypt_to_clear_values(model: type[models.Model]) -> int:
    """The reverse, for unapplying such a migration: write the values back in clear."""
    encrypted = [field for field in _rewritten_fields(model) if isinstance(field, EncryptedMixin)]
    done = 0
    with transaction.atomic():
        for row in model._base_manager.only("pk", *(field.name for field in encrypted)):
            clear: dict[str, Any] = {}
            for field in encrypted:
                value = getattr(row, field.attname)
                if value is not None and value != "":
                    # A plain text value: the field's own preparation would encrypt it again.
                    value = models.Value(field.to_text(value), output_field=models.TextField())
                clear[field.attname] = value
            model._base_manager.filter(pk=row.pk).update(**clear)
            done += 1
    return done
