"""Personal data encrypted at rest, bound to its place, and keyed hashes to find a row by it.

Encrypted fields store a Fernet token (AES-128-CBC with an HMAC-SHA256 tag: a changed byte is
refused, not decrypted into something else) under the keys of `FIELD_ENCRYPTION_KEYS`; the first
key encrypts, every key decrypts. Each encryption draws a fresh IV, so equal values give
different tokens: an encrypted column cannot be searched, sorted or joined on. A row is found
by a `KeyedHashField` instead: HMAC-SHA256, under `FIELD_HASH_KEYS`, of the normalised value of
another field (lower-cased email, E.164 phone). Lookups try every hash key, so rows written
before a rotation are still found until `rotate_encryption_keys` rewrites them.

Binding. Fernet has no associated data, so the context goes inside the token: the plaintext is
a marker byte, 16 bytes of SHA-256 over (table, column, row key), then the value. Fernet's HMAC
covers all of it, and reading checks the digest against the place the token was read from, so
a token copied into another row, column or table is refused with `MisplacedValue` instead of
being read as that row's value. Rotation is unchanged (MultiFernet: first key encrypts, every
key decrypts; the command re-encrypts, binding again). The row key is the primary key when it
is a uuid drawn before the INSERT (`BaseModel`); a model with an auto-increment key has a
`RowKeyField` (a random uuid) instead, since its id is unknown until the row is inserted.
A model with encrypted fields and neither fails the system checks (core.E003).

Where the row is known. Writing: `pre_save` sees the instance, so `save()` and `bulk_create()`
bind. `QuerySet.update()` and `bulk_update()` see only the value: they may empty a field (""
or NULL), any other value is refused (`rows_update` writes one value to many rows, each bound
to its own). Reading: every SELECT of an encrypted column (model instances, `.values()`,
`.values_list()`, `select_related`) selects `<row key>:<token>` instead of the token, so
`from_db_value` knows the row with no extra query (the send path's contacts stay one query a
batch; a value costs one SHA-256 of a few dozen bytes more). A token read without it (a raw
query) is refused.

Values written before binding existed: the migrations that introduced binding
(registrations 0004, notifications 0011) re-encrypt every one; after them an unbound token is
refused like a misplaced one, so an old token put back into a row does not read. Only those
migrations (and unapplying them) read unbound tokens. Renaming a table or an encrypted column
needs the same re-encryption, as the name is part of the binding.

An empty string is stored empty and NULL stays NULL: whether a citizen gave an emergency
contact, say, shows; what they gave does not. Queries rely on it (`~Q(phone="")`).
"""

import binascii
import datetime
import functools
import hashlib
import hmac
import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import NotSupportedError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.expressions import Col
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

HASH_KEY_MIN_LENGTH = 32

# First byte of a bound plaintext: never the first byte of UTF-8 text, which is what an unbound
# plaintext (written before binding) is.
_BOUND = b"\xff"
_DIGEST = 16
# Between the row key and the token in a selected column: a Fernet token (url-safe base64)
# never holds it.
_KEY_SEPARATOR = ":"


class MisplacedValue(ImproperlyConfigured):
    """A stored token that was not encrypted for the table, column and row it was read from."""


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


def _digest(place: bytes, key: uuid.UUID | str) -> bytes:
    # The key as 32 hex digits: PostgreSQL writes a uuid as text with hyphens, SQLite without.
    key_text = key.hex if isinstance(key, uuid.UUID) else str(key).replace("-", "").lower()
    return hashlib.sha256(place + key_text.encode()).digest()[:_DIGEST]


def binding(table: str, column: str, key: uuid.UUID | str) -> bytes:
    """What a value is bound to: its table, its column and its row's key (a uuid)."""
    return _digest(f"{table}\x1f{column}\x1f".encode(), key)


def encrypt(text: str, *, bound_to: bytes) -> str:
    plaintext = _BOUND + bound_to + text.encode()
    return _cipher().encrypt(plaintext).decode("ascii")


def _plaintext(token: str) -> bytes:
    try:
        return _cipher().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        # A missing key after a rotation, or a value written without encryption.
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS."
        ) from None


def decrypt(token: str, *, bound_to: bytes, unbound_ok: bool = False) -> str:
    """The clear value of a token read from the place `bound_to` describes. `unbound_ok` is
    for the migrations that bind the values written before binding existed."""
    plaintext = _plaintext(token)
    if plaintext[:1] == _BOUND:
        if not hmac.compare_digest(plaintext[1 : 1 + _DIGEST], bound_to):
            raise MisplacedValue(
                "the stored value was encrypted for another table, column or row: it was "
                "copied there."
            )
        return plaintext[1 + _DIGEST :].decode()
    if unbound_ok:
        return plaintext.decode()
    raise MisplacedValue(
        "the stored value is not bound to its row (written before binding and not "
        "re-encrypted since, or put back from an old copy)."
    )


def _encrypt_unbound(text: str) -> str:
    # Only to unapply the binding migrations.
    return _cipher().encrypt(text.encode()).decode("ascii")


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


NORMALISERS: dict[str, Callable[[str], str]] = {
    "email": normalise_email,
    "phone": normalise_phone,
    "message_reference": str,
}


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


# --- Fields -------------------------------------------------------------------------------


class RowKeyField(models.UUIDField):
    """The key encrypted values of a row are bound to, for a model whose primary key is not
    known before the INSERT. Random, drawn when the instance is built; not indexed (nothing
    looks rows up by it). An INSERT written in SQL fills it with `row_key_sql()`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["default"] = uuid.uuid4
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["default"], kwargs["editable"]
        return name, path, args, kwargs


def row_key_sql(connection: BaseDatabaseWrapper) -> str:
    """SQL for a new row's `RowKeyField`, in the form the backend stores a uuid."""
    if connection.vendor == "postgresql":
        return "gen_random_uuid()"
    if connection.vendor == "sqlite":
        return "lower(hex(randomblob(16)))"
    raise NotSupportedError(f"No random row key on {connection.vendor}.")


def row_key_field(model: type[models.Model]) -> models.Field[Any, Any]:
    """The field whose value an encrypted value of `model` is bound to."""
    for field in model._meta.concrete_fields:
        if isinstance(field, RowKeyField):
            return field
    pk = model._meta.pk
    if isinstance(pk, models.UUIDField) and pk.has_default():
        return pk
    raise ImproperlyConfigured(
        f"{model._meta.label} has encrypted fields but no key known before its rows are "
        "inserted: give it a core.crypto.RowKeyField."
    )


class _Sealed(str):
    """A token already encrypted for its row by `pre_save`: written as it is."""


class _BoundCol(Col):
    """An encrypted column selected together with its row's key (`<key>:<token>`), so that
    `from_db_value` can check the binding. Only the SELECT list changes: filters, updates and
    constraints use the plain column."""

    def select_format(self, compiler: Any, sql: str, params: Any) -> tuple[str, Any]:
        key = cast("EncryptedMixin", self.target).row_key
        identifiers = (self.alias, key.column) if self.alias else (key.column,)
        key_sql = ".".join(map(compiler.quote_name, identifiers))
        return f"(CAST({key_sql} AS TEXT) || '{_KEY_SEPARATOR}' || {sql})", params


class _EmptyOnlyExact(Exact):
    """`field=""` works (empty is stored empty); any other value could never match a token."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                "An encrypted field can only be compared with ''; look rows up by a keyed hash."
            )
        return super().get_prep_lookup()


class EncryptedMixin(models.Field):
    """Encrypts the value on its way to the database, bound to its row, and decrypts it on its
    way back, checking the binding (see the module's docstring).

    `max_length` still validates the clear value; the column is text, as tokens are longer.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            row_key_field(self.model)
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), obj=self, id="core.E003"))
        return errors

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    @functools.cached_property
    def row_key(self) -> models.Field[Any, Any]:
        return row_key_field(self.model)

    @functools.cached_property
    def _binding_prefix(self) -> bytes:
        return f"{self.model._meta.db_table}\x1f{self.column}\x1f".encode()

    def binding_of(self, key: uuid.UUID | str) -> bytes:
        return _digest(self._binding_prefix, key)

    def decrypt(self, token: str, key: Any, *, unbound_ok: bool = False) -> Any:
        """The value of a token read from this column in the row whose key is `key`."""
        try:
            text = decrypt(token, bound_to=self.binding_of(key), unbound_ok=unbound_ok)
        except MisplacedValue as error:
            raise MisplacedValue(f"{self.place(key)}: {error}") from None
        return self.from_text(text)

    def place(self, key: Any) -> str:
        """Where a value is, for errors: table, column and row key (none of them personal)."""
        return f"{self.model._meta.db_table}.{self.column} of row {key}"

    def get_col(self, alias: str, output_field: Any = None) -> Col:
        if output_field is None or output_field == self:
            return _BoundCol(alias, self)
        return super().get_col(alias, output_field)

    @functools.cached_property
    def cached_col(self) -> Col:
        return _BoundCol(self.model._meta.db_table, self)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return value
        key, separator, token = value.partition(_KEY_SEPARATOR)
        if not separator:
            raise MisplacedValue(
                f"{self.model._meta.db_table}.{self.column} was read without its row's key "
                "(a raw query?): its binding cannot be checked."
            )
        if token == "":
            return token
        return self.decrypt(token, key)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if hasattr(value, "resolve_expression"):
            return value
        value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        key = getattr(model_instance, self.row_key.attname)
        if key is None:
            raise ImproperlyConfigured(f"{self.place(key)}: a value cannot be bound to no key.")
        return _Sealed(encrypt(self.to_text(value), bound_to=self.binding_of(key)))

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if isinstance(value, _Sealed):
            return str(value)
        if hasattr(value, "as_sql"):  # an expression: the database computes the value
            return value
        value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted for each row: write it with "
            "save() or bulk_create(), or core.crypto.rows_update(); QuerySet.update() and "
            "bulk_update() can only empty it."
        )

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


def _encrypted_fields(model: type[models.Model]) -> list[EncryptedMixin]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedMixin)]


def _rewritten_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedMixin | KeyedHashField)
    ]


def encrypted_models() -> list[type[models.Model]]:
    """Every installed model with an encrypted field, found by the fields' class."""
    return [model for model in apps.get_models() if _encrypted_fields(model)]


def _seal(rows: list[models.Model], fields: Sequence[models.Field[Any, Any]]) -> None:
    """Derive the hashes from the clear values, then replace each clear value with its token,
    bound to its row, so that `bulk_update` writes it as it is."""
    for row in rows:
        for field in fields:
            if isinstance(field, KeyedHashField):
                field.pre_save(row, add=False)
        for field in fields:
            if isinstance(field, EncryptedMixin):
                setattr(row, field.attname, field.pre_save(row, add=False))


def _rewrite(
    model: type[models.Model],
    *,
    chunk_size: int,
    load: Callable[[QuerySet[Any], int], list[models.Model]],
    where: models.Q | None = None,
) -> int:
    """Save the encrypted and hash fields of every row (or of those `where` selects) again, a
    chunk per transaction, in primary-key order; each chunk is locked while it is rewritten,
    so a concurrent edit is neither lost nor overwritten with an older value."""
    fields = _rewritten_fields(model)
    done = 0
    last: Any = None
    while True:
        with transaction.atomic():
            rows = model._base_manager.select_for_update().order_by("pk")
            if where is not None:
                rows = rows.filter(where)
            if last is not None:
                rows = rows.filter(pk__gt=last)
            batch = load(rows, chunk_size)
            if not batch:
                return done
            _seal(batch, fields)
            model._base_manager.bulk_update(batch, [field.name for field in fields])
        done += len(batch)
        last = batch[-1].pk


def rows_reencrypt(model: type[models.Model], *, chunk_size: int = 500) -> int:
    """Encrypt every value of the model again under the first key, bound to its row, and hash
    it again under the first hash key (rows are read with any key). Running it twice is
    harmless."""
    key = row_key_field(model)
    names = ["pk", key.name, *(field.name for field in _rewritten_fields(model))]
    return _rewrite(
        model, chunk_size=chunk_size, load=lambda rows, size: list(rows.only(*names)[:size])
    )


def rows_update(queryset: QuerySet[Any], *, chunk_size: int = 500, **values: Any) -> int:
    """`queryset.update(**values)` for values that include encrypted ones, which are bound to
    each row: the rows' keys are read, and each row gets its own token (a query to read and
    one to write per chunk). Returns the number of rows."""
    model = queryset.model
    key = row_key_field(model)
    fields = [model._meta.get_field(name) for name in values]
    encrypted = [field for field in fields if isinstance(field, EncryptedMixin)]
    done = 0
    with transaction.atomic():
        pairs = list(queryset.order_by("pk").values_list("pk", key.attname))
        for start in range(0, len(pairs), chunk_size):
            rows = []
            for pk, row_key in pairs[start : start + chunk_size]:
                row = model(pk=pk)
                setattr(row, key.attname, row_key)
                for name, value in values.items():
                    setattr(row, name, value)
                rows.append(row)
            _seal(rows, encrypted)
            model._base_manager.bulk_update(rows, [field.name for field in fields])
            done += len(rows)
    return done


def _raw_loader(
    model: type[models.Model], read: Callable[[EncryptedMixin, str, Any], Any]
) -> Callable[[QuerySet[Any], int], list[models.Model]]:
    """Loads rows with what their encrypted columns hold as stored (clear text left by a
    migration, or a token), turned into each field's value by `read(field, text, row_key)`."""
    encrypted = _encrypted_fields(model)
    key = row_key_field(model)
    # Cast: the stored text, not the `<key>:<token>` an encrypted column is selected as.
    stored = {f"stored_{field.name}": Cast(field.name, models.TextField()) for field in encrypted}

    def load(rows: QuerySet[Any], size: int) -> list[models.Model]:
        loaded = []
        for values in rows.values("pk", key.attname, **stored)[:size]:
            row = model(pk=values["pk"])
            setattr(row, key.attname, values[key.attname])
            for field in encrypted:
                text = values[f"stored_{field.name}"]
                setattr(
                    row, field.attname, read(field, text, values[key.attname]) if text else text
                )
            loaded.append(row)
        return loaded

    return load


def _open_stored(field: EncryptedMixin, token: str, row_key: Any) -> Any:
    return field.decrypt(token, row_key, unbound_ok=True)


def rows_encrypt_clear_values(
    model: type[models.Model], *, chunk_size: int = 500, where: models.Q | None = None
) -> int:
    """For a migration that has just turned clear columns into encrypted ones: encrypt the
    values they still hold in clear, and fill the keyed hashes. `where` may skip the rows
    with nothing to encrypt."""
    load = _raw_loader(model, lambda field, text, _key: field.to_python(text))
    return _rewrite(model, chunk_size=chunk_size, load=load, where=where)


def rows_bind(model: type[models.Model], *, chunk_size: int = 500) -> int:
    """For the migrations that introduced binding: encrypt every value again, bound to its row.
    Unbound tokens are read here only; values already bound are checked and kept bound."""
    return _rewrite(model, chunk_size=chunk_size, load=_raw_loader(model, _open_stored))


def _rewrite_stored(model: type[models.Model], write: Callable[[str], str]) -> int:
    """Every encrypted value of the model, bound or not, replaced by `write(clear text)`
    (written as text: the field's own preparation would encrypt it again)."""
    encrypted = _encrypted_fields(model)
    done = 0
    with transaction.atomic():
        rows = model._base_manager.select_for_update().order_by("pk")
        for row in _raw_loader(model, _open_stored)(rows, rows.count()):
            stored: dict[str, Any] = {}
            for field in encrypted:
                value = getattr(row, field.attname)
                if value is not None and value != "":
                    value = models.Value(write(field.to_text(value)), models.TextField())
                stored[field.attname] = value
            model._base_manager.filter(pk=row.pk).update(**stored)
            done += 1
    return done


def rows_decrypt_to_clear_values(model: type[models.Model]) -> int:
    """The reverse of `rows_encrypt_clear_values`, for unapplying such a migration: write the
    values back in clear."""
    return _rewrite_stored(model, lambda text: text)


def rows_unbind(model: type[models.Model]) -> int:
    """The reverse of `rows_bind`, for unapplying a binding migration."""
    return _rewrite_stored(model, _encrypt_unbound)
