from django.contrib import admin

from regions.models import Country, Region


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin[Country]):
    list_display = ["code", "alpha3", "name_en", "name_fr"]
    search_fields = ["code", "alpha3", "name_en", "name_fr"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin[Region]):
    list_display = ["code", "name_en", "name_fr", "type", "country", "parent"]
    list_filter = ["country"]
    search_fields = ["code", "name_en", "name_fr"]
    list_select_related = ["country", "parent"]
    raw_id_fields = ["parent"]

    def has_add_permission(self, request: object) -> bool:
        return False
