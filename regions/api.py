from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets

from regions.models import Country, Region


class RegionSerializer(serializers.ModelSerializer[Region]):
    class Meta:
        model = Region
        fields = ["code", "name", "type", "parent"]
        read_only_fields = fields


class CountrySerializer(serializers.ModelSerializer[Country]):
    class Meta:
        model = Country
        fields = ["code", "alpha3", "name"]


class CountryDetailSerializer(CountrySerializer):
    regions = RegionSerializer(many=True, read_only=True)

    class Meta(CountrySerializer.Meta):
        fields = [*CountrySerializer.Meta.fields, "regions"]


@extend_schema(tags=["geography"])
class CountryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """ISO 3166-1 countries and their ISO 3166-2 regions, named in the request's language
    (`Accept-Language: fr`)."""

    permission_classes = [permissions.AllowAny]
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{2}"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Country]:
        queryset = Country.objects.all()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("regions", queryset=Region.objects.order_by("code"))
            )
        return queryset

    def get_serializer_class(self) -> type[CountrySerializer]:
        return CountryDetailSerializer if self.action == "retrieve" else CountrySerializer

    def get_object(self) -> Country:
        self.kwargs[self.lookup_field] = self.kwargs[self.lookup_field].upper()
        return super().get_object()
