from django.db import models
from django.db.models.functions import Concat
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class LocalizedNameMixin:
    name_en: str
    name_fr: str

    @property
    def name(self) -> str:
        """The name in the active language, English when there is no translation."""
        if (get_language() or "en").startswith("fr") and self.name_fr:
            return self.name_fr
        return self.name_en


class Country(LocalizedNameMixin, models.Model):
    """An ISO 3166-1 country; its alpha-2 code is the key every other app refers to."""

    code = models.CharField(_("ISO 3166-1 alpha-2"), max_length=2, primary_key=True)
    alpha3 = models.CharField(_("ISO 3166-1 alpha-3"), max_length=3, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z]{2}$"), name="country_code_iso2"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Region(LocalizedNameMixin, models.Model):
    """An ISO 3166-2 subdivision; `parent` links nested subdivisions (a department to its
    region), so a level set on the parent applies to its children."""

    code = models.CharField(_("ISO 3166-2 code"), max_length=6, primary_key=True)
    country = models.ForeignKey(
        Country, on_delete=models.CASCADE, related_name="regions", verbose_name=_("country")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    type = models.CharField(_("type"), max_length=100, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            # The code's prefix is the country: "ML-7" belongs to ML and to nothing else.
            models.CheckConstraint(
                condition=models.Q(code__startswith=Concat("country_id", models.Value("-"))),
                name="region_code_in_country",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
