"""REST for safety checks and cases, scoped to the caller's posts: a foreign id answers 404."""

import dataclasses
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import user_get
from cases import selectors
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.services import cases as case_services
from cases.services import safety_checks
from core.api import STRICT_FIELD_MAPPING, StrictCharField
from core.audit import AuditedViewSetMixin
from core.pagination import CursorPagination
from notifications.api import RecipientCountsSerializer


def _user(request: Request) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


class TallySerializer(serializers.Serializer[Any]):
    citizens = serializers.IntegerField()
    people = serializers.IntegerField(help_text="Citizens with their households.")


class SafetyCheckSerializer(serializers.ModelSerializer[SafetyCheck]):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    country = StrictCharField(source="country_id")
    alert = serializers.UUIDField(source="alert_id", required=False, allow_null=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    approved_by = serializers.CharField(
        source="approved_by.username", read_only=True, allow_null=True, default=None
    )
    started_alone = serializers.BooleanField(
        read_only=True,
        help_text="Started by its author without a second person, under the post's urgent mode.",
    )
    approval = serializers.SerializerMethodField(
        help_text="Who let the check go, in your language: the approver, or that it was "
        "started without a second person (urgent mode)."
    )

    class Meta:
        model = SafetyCheck
        fields = [
            "id",
            "code",
            "status",
            "country",
            "region_codes",
            "alert",
            "question_en",
            "question_fr",
            "deadline",
            "send_email",
            "send_sms",
            "reminder_minutes",
            "escalate_to_emergency_contact",
            "open_case_on_no_response",
            "created_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "rejection_reason",
            "started_alone",
            "approval",
            "started_at",
            "reminded_at",
            "escalated_at",
            "closed_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "code",
            "status",
            "submitted_at",
            "approved_at",
            "rejection_reason",
            "started_at",
            "reminded_at",
            "escalated_at",
            "closed_at",
            "created_at",
        ]
        extra_kwargs = {"question_fr": {"required": False, "allow_blank": True}}

    def get_approval(self, check: SafetyCheck) -> str:
        return check.approval_note

    def fields_of(self, current: SafetyCheck | None = None) -> safety_checks.CheckFields:
        """The author's choices: what was given, else what the draft says (or the defaults)."""
        data = self.validated_data

        def given(source: str, default: Any) -> Any:
            if source in data:
                return data[source]
            return getattr(current, source) if current is not None else default

        # Optional in the serializer: the service refuses a check without regions.
        return safety_checks.CheckFields(
            region_codes=given("region_codes", []),
            question_en=given("question_en", ""),
            question_fr=given("question_fr", ""),
            deadline=given("deadline", None),
            send_email=given("send_email", True),
            send_sms=given("send_sms", True),
            reminder_minutes=given("reminder_minutes", 120),
            escalate_to_emergency_contact=given("escalate_to_emergency_contact", True),
            open_case_on_no_response=given("open_case_on_no_response", False),
            alert_id=given("alert_id", None),
        )


class SafetyCheckUpdateSerializer(SafetyCheckSerializer):
    class Meta(SafetyCheckSerializer.Meta):
        read_only_fields = [*SafetyCheckSerializer.Meta.read_only_fields, "country"]


class RejectionSerializer(serializers.Serializer[Any]):
    reason = StrictCharField(max_length=2000, allow_blank=True)


class SafetyCheckDetailSerializer(SafetyCheckSerializer):
    counts = serializers.SerializerMethodField()
    regions = serializers.SerializerMethodField()

    class Meta(SafetyCheckSerializer.Meta):
        fields = [*SafetyCheckSerializer.Meta.fields, "counts", "regions"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=TallySerializer()))
    def get_counts(self, check: SafetyCheck) -> dict[str, Any]:
        board = self.context["board"]
        return {key: dataclasses.asdict(tally) for key, tally in board.totals.items()}

    @extend_schema_field(
        serializers.DictField(child=serializers.DictField(child=TallySerializer()))
    )
    def get_regions(self, check: SafetyCheck) -> dict[str, Any]:
        board = self.context["board"]
        return {
            region: {key: dataclasses.asdict(tally) for key, tally in tallies.items()}
            for region, tallies in board.regions.items()
        }


class ResponseSerializer(serializers.ModelSerializer[SafetyResponse]):
    citizen = serializers.UUIDField(source="citizen_id", read_only=True)
    name = serializers.SerializerMethodField()
    # Blank until answered, and when no help is needed: declared here so the schema's enums
    # allow "" (the model's read-only choices would not).
    via = serializers.ChoiceField(choices=[("", "-"), *SafetyResponse.Via.choices], read_only=True)
    help_kind = serializers.ChoiceField(
        choices=[("", "-"), *SafetyResponse.HelpKind.choices], read_only=True
    )

    class Meta:
        model = SafetyResponse
        fields = [
            "id",
            "citizen",
            "name",
            "region_code",
            "people",
            "status",
            "via",
            "people_with_them",
            "location",
            "help_kind",
            "details",
            "answered_at",
        ]
        read_only_fields = fields

    def get_name(self, response: SafetyResponse) -> str:
        return str(response.citizen)


class ResponseFilterSerializer(serializers.Serializer[Any]):
    """An unknown status is a 400 naming it, not an empty page."""

    status = serializers.ChoiceField(
        choices=SafetyResponse.Status.choices, required=False, allow_blank=True
    )


class ResponsePagination(CursorPagination):
    ordering = "id"


@extend_schema(tags=["safety checks"])
class SafetyCheckViewSet(
    AuditedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Safety checks of the countries your posts cover; the detail carries the live counts.

    A check is created as a draft; `preview` shows whom it would reach, `submit` hands it to
    a second person, whose `approve` starts it (or `reject` sends it back with a reason). Under
    its post's urgent mode, the author may `start-alone`."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = SafetyCheckSerializer
    audit_object_type = "cases.safetycheck"
    filterset_fields = ["status", "country"]
    # What a second person needs: the check and its reach, never the citizens' answers.
    APPROVAL_ACTIONS = ("retrieve", "preview", "approve", "reject")

    def get_queryset(self) -> QuerySet[SafetyCheck]:
        if self.action in self.APPROVAL_ACTIONS:
            return selectors.checks_for_staff_or_approval(user=_user(self.request))
        return selectors.checks_for_staff(user=_user(self.request)).select_related(
            "created_by", "approved_by"
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        check = self.get_object()
        return self._detail(check)

    def _detail(self, check: SafetyCheck, code: int = status.HTTP_200_OK) -> Response:
        board = selectors.check_board(check_id=check.id)
        data = SafetyCheckDetailSerializer(check, context={"board": board}).data
        return Response(data, status=code)

    @extend_schema(request=SafetyCheckSerializer, responses={201: SafetyCheckDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A draft: nobody is asked before it is approved (or started alone)."""
        serializer = SafetyCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check = safety_checks.safety_check_create(
            author=_user(request),
            country_code=serializer.validated_data["country_id"],
            fields=serializer.fields_of(),
        )
        return self._detail(check, status.HTTP_201_CREATED)

    @extend_schema(request=SafetyCheckUpdateSerializer, responses=SafetyCheckDetailSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change a draft; what is not given stays as it was."""
        check = self.get_object()
        serializer = SafetyCheckUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        check = safety_checks.safety_check_update(
            check=check, editor=_user(request), fields=serializer.fields_of(check)
        )
        return self._detail(check)

    @extend_schema(
        responses=RecipientCountsSerializer,
        summary="Whom starting the check now would write to, by region, channel, language",
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        return Response(
            RecipientCountsSerializer(selectors.check_reach(check=self.get_object())).data
        )

    @extend_schema(request=None, responses=SafetyCheckDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        check = safety_checks.safety_check_submit(
            check=self.get_object(), submitted_by=_user(request)
        )
        return self._detail(check)

    @extend_schema(request=None, responses=SafetyCheckDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Four eyes: another staff member of the post starts the check (it is sent at once)."""
        check = safety_checks.safety_check_approve(check=self.get_object(), approver=_user(request))
        return self._detail(check)

    @extend_schema(request=RejectionSerializer, responses=SafetyCheckDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        check = self.get_object()
        data = RejectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = safety_checks.safety_check_reject(
            check=check, rejected_by=_user(request), reason=data.validated_data["reason"]
        )
        return self._detail(check)

    @extend_schema(
        request=None,
        responses=SafetyCheckDetailSerializer,
        summary="Start your own check without a second person (your post's urgent mode)",
    )
    @action(detail=True, methods=["post"], url_path="start-alone")
    def start_alone(self, request: Request, pk: str | None = None) -> Response:
        check = safety_checks.safety_check_start_alone(
            check=self.get_object(), started_by=_user(request)
        )
        return self._detail(check)

    @extend_schema(responses=ResponseSerializer(many=True), parameters=[ResponseFilterSerializer])
    # The check list's filters do not apply to its responses: `status` does.
    @action(detail=True, methods=["get"], pagination_class=ResponsePagination, filter_backends=[])
    def responses(self, request: Request, pk: str | None = None) -> Response:
        """Who answered what; `?status=needs_help` narrows the list."""
        check = self.get_object()
        params = ResponseFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data.get("status") or None
        rows = selectors.responses_of_check(check_id=check.id, status=wanted).order_by("id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ResponseSerializer(page, many=True).data)


class CaseSerializer(serializers.ModelSerializer[Case]):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    post = serializers.CharField(source="post.code", read_only=True)
    country = StrictCharField(source="country_id")
    region = StrictCharField(source="region_id", required=False, allow_null=True, allow_blank=True)
    citizen = serializers.UUIDField(source="citizen_id", required=False, allow_null=True)
    household_members = serializers.ListField(
        child=serializers.UUIDField(), write_only=True, required=False
    )
    safety_check = serializers.UUIDField(source="safety_check_id", read_only=True, allow_null=True)
    assignee = serializers.IntegerField(source="assignee_id", read_only=True, allow_null=True)
    note = StrictCharField(write_only=True, required=False, allow_blank=True)
    summary = StrictCharField(
        max_length=300,
        help_text="Staff's own words; for a case the system opened, what it is about in the "
        "caller's language.",
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "kind",
            "priority",
            "status",
            "source",
            "post",
            "country",
            "region",
            "citizen",
            "household_members",
            "safety_check",
            "summary",
            "assignee",
            "note",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "source",
            "post",
            "safety_check",
            "assignee",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]

    def to_representation(self, instance: Case) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["summary"] = instance.summary_text
        return data


class CaseUpdateSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    note = StrictCharField(required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer[Any]):
    assignee = serializers.IntegerField(
        allow_null=True, required=False, help_text="A user id; empty assigns the case to you."
    )


class EventSerializer(serializers.ModelSerializer[CaseEvent]):
    actor = serializers.CharField(
        source="actor.get_username",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Null for what the system did itself.",
    )

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "actor", "text", "data", "created_at"]
        read_only_fields = ["id", "actor", "data", "created_at"]


class NoteSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(
        choices=[CaseEvent.Kind.NOTE, CaseEvent.Kind.CALL], default=CaseEvent.Kind.NOTE
    )
    text = StrictCharField(max_length=5000)


class CaseFilterSerializer(serializers.Serializer[Any]):
    """The queue's filters: a value that is none of the allowed ones is a 400 naming it, not
    a filter quietly dropped."""

    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=Case.Kind.choices, required=False)
    priority = serializers.ChoiceField(choices=Case.Priority.choices, required=False)
    assignee = serializers.RegexField(
        r"^(me|none|[0-9]{1,9})$",
        required=False,
        help_text="A staff member's id, `me` or `none` (unassigned).",
    )
    post = StrictCharField(max_length=50, required=False, help_text="A post's code.")
    safety_check = serializers.UUIDField(required=False)


class EventPagination(CursorPagination):
    ordering = "created_at"


@extend_schema(tags=["cases"])
@extend_schema_view(list=extend_schema(parameters=[CaseFilterSerializer]))
class CaseViewSet(
    AuditedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The cases of your posts. Filters: status, kind, priority, assignee (an id, `me` or
    `none`), post, safety_check."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = CaseSerializer
    audit_object_type = "cases.case"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Case]:
        given = {name: value for name, value in self.request.query_params.items() if value}
        params = CaseFilterSerializer(data=given)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return selectors.cases_for_staff(
            user=_user(self.request),
            status=data.get("status"),
            kind=data.get("kind"),
            priority=data.get("priority"),
            assignee=data.get("assignee"),
            post_code=data.get("post"),
            safety_check_id=data.get("safety_check"),
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = case_services.case_open(
            opened_by=_user(request),
            kind=data["kind"],
            priority=data.get("priority", Case.Priority.NORMAL),
            country_code=data["country_id"],
            region_code=data.get("region_id") or None,
            citizen_id=data.get("citizen_id"),
            household_member_ids=data.get("household_members", []),
            summary=data["summary"],
            text=data.get("note", ""),
        )
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CaseUpdateSerializer, responses=CaseSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the status (with an optional note on the timeline); a note alone is added to
        the timeline, and the status stays."""
        case = self.get_object()
        serializer = CaseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "status" in data:
            case = case_services.case_status_change(
                case=case, status=data["status"], actor=_user(request), text=data["note"]
            )
        elif data["note"].strip():
            case_services.case_note_add(case=case, actor=_user(request), text=data["note"])
        return Response(CaseSerializer(case).data)

    @extend_schema(request=AssignSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _user(request)
        assignee_id = serializer.validated_data.get("assignee")
        assignee = user if assignee_id is None else user_get(user_id=assignee_id)
        if assignee is None:
            raise serializers.ValidationError({"assignee": ["No such staff member."]})
        case = case_services.case_assign(case=case, assignee=assignee, actor=user)
        return Response(CaseSerializer(case).data)

    @extend_schema(
        methods=["GET"], responses=EventSerializer(many=True), summary="The case's timeline"
    )
    @extend_schema(methods=["POST"], request=NoteSerializer, responses={201: EventSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=EventPagination)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """GET: the whole timeline; POST: add a note or a logged call."""
        case = self.get_object()
        if request.method == "POST":
            serializer = NoteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            event = case_services.case_note_add(
                case=case,
                actor=_user(request),
                text=serializer.validated_data["text"],
                kind=serializer.validated_data["kind"],
            )
            return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.case_timeline(case_id=case.id))
        return self.get_paginated_response(EventSerializer(page, many=True).data)
