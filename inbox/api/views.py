"""Thin API views: parse, check permission, call a service or selector, serialize."""

from dataclasses import asdict

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors
from inbox.api import serializers as s
from inbox.api.filters import CONVERSATION_FILTERS, date_param, filter_conversations, int_param
from inbox.api.pagination import ByLastActivity, ContactsByName, NewestFirst
from inbox.api.permissions import CanWorkConversations, IsAdminOrReadOnly, IsHeronUser
from inbox.models import (
    Attachment,
    CannedResponse,
    Contact,
    ContactMerge,
    Conversation,
    Event,
    Inbox,
    Label,
    Team,
)
from inbox.public_media import INLINE_IMAGE_TYPES
from inbox.services import contacts as contact_services
from inbox.services import conversations as conversation_services
from inbox.services import outbound as outbound_services
from inbox.services.originals import original_email
from inbox.services.outbound import send_message, start_conversation
from search.selectors import contacts_matching

User = get_user_model()
HERON = [IsHeronUser]


def me_payload(user) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "name": s.display_name(user),
        "role": selectors.role_of(user),
        "teams": s.TeamSerializer(user.heron.teams.all() if hasattr(user, "heron") else [], many=True).data,
        "can_reply": selectors.can_reply(user),
        # Where a client starts catching up from if it loads data now (GET /api/v1/events/?after=).
        "last_event_id": Event.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    }


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=200, trim_whitespace=False)


@extend_schema(request=None, responses={204: None})
@api_view(["GET"])
@permission_classes([AllowAny])
@ensure_csrf_cookie
def csrf(request):
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(request=LoginSerializer, responses={200: dict})
@api_view(["POST"])
@permission_classes([AllowAny])
def login_view(request):
    # DRF checks CSRF only for a session already signed in: a sign-in form posted by another site would
    # sign the browser in to the attacker's account (login CSRF). 403 "CSRF Failed: ..." instead.
    SessionAuthentication().enforce_csrf(request)
    data = LoginSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    # Django's request, not DRF's wrapper: django-axes marks a locked-out request for its middleware on it.
    user = authenticate(request._request, username=data.validated_data["email"].lower(),
                        password=data.validated_data["password"])
    if user is None:
        return Response({"detail": "Wrong email or password."}, status=status.HTTP_400_BAD_REQUEST)
    login(request, user)
    return Response(me_payload(user))


def sign_in_locked_out(request, original_response=None, credentials=None) -> JsonResponse:
    """django-axes' answer (AXES_LOCKOUT_CALLABLE) once an email has failed to sign in too often from one address."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = JsonResponse({"detail": f"Too many failed sign-ins. Try again in {seconds // 60} minutes, or ask an "
                                       "admin to unlock the account."}, status=429)
    response["Retry-After"] = str(seconds)
    return response


@extend_schema(request=None, responses={204: None})
@api_view(["POST"])
def logout_view(request):
    logout(request)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses={200: dict})
@api_view(["GET"])
def me(request):
    return Response(me_payload(request.user))


class VisibleRowsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rows the user may see (`get_queryset` filters by permission; `queryset` is for the schema)."""

    permission_classes = [IsHeronUser, CanWorkConversations]
    lookup_value_regex = r"\d+"


class ConversationViewSet(VisibleRowsViewSet):
    """Conversations the user may see; `create` starts one with a first outbound message."""

    serializer_class = s.ConversationSerializer
    pagination_class = ByLastActivity
    queryset = Conversation.objects.none()

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return selectors.conversation_rows(self.request.user)
        # The other actions work on the conversation rather than show it: no unread count or labels.
        return selectors.visible_conversations(self.request.user).select_related("contact", "inbox")

    @extend_schema(
        parameters=[OpenApiParameter(name, str, description=description)
                    for name, description in CONVERSATION_FILTERS.items()]
        + [OpenApiParameter("q", str, description="contact name, email, phone (any format) or subject")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = self.request.query_params
        queryset = filter_conversations(queryset, params, self.request.user)
        if since := date_param(params, "since"):
            queryset = queryset.filter(last_message_at__gte=since)
        if until := date_param(params, "until"):
            queryset = queryset.filter(last_message_at__lt=until)
        if params.get("q"):
            queryset = queryset.filter(
                Q(contact__in=Contact.objects.filter(contacts_matching(params["q"])).values("id"))
                | Q(subject__icontains=params["q"])
            )
        return queryset.distinct() if params.get("label") else queryset

    @extend_schema(request=s.NewConversationSerializer, responses=s.MessageSerializer)
    def create(self, request):
        data = s.NewConversationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = get_object_or_404(selectors.visible_contacts(request.user), pk=data.validated_data["contact"])
        inbox = selectors.usable_inboxes(request.user).filter(pk=data.validated_data["inbox"]).first()
        if inbox is None:
            raise ValidationError({"inbox": "Pick an inbox of your team."})
        message = start_conversation(contact, request.user, inbox=inbox, text=data.validated_data["text"],
                                     subject=data.validated_data["subject"])
        message = selectors.message_list(type(message).objects.filter(pk=message.pk)).get()
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ConversationUpdateSerializer, responses=s.ConversationSerializer)
    def partial_update(self, request, pk=None):
        conversation = self.get_object()
        changes = s.ConversationUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        updated = conversation_services.update_conversation(conversation, request.user, **changes.validated_data)
        updated = selectors.conversation_list(request.user).get(pk=updated.pk)
        return Response(s.ConversationSerializer(updated).data)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], url_path="reply-options")
    def reply_options(self, request, pk=None):
        """Where a reply can go: each channel with its recipient, or the reason it cannot be used."""
        default, options = outbound_services.reply_options(self.get_object())
        return Response({"default": default, "options": [asdict(option) for option in options]})

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Marks the conversation read for the caller; a marketer's reading changes nothing (403)."""
        conversation_services.mark_read(self.get_object(), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request={"application/json": s.NewMessageSerializer, "multipart/form-data": s.NewMessageSerializer},
                   responses=s.MessageSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=NewestFirst)
    def messages(self, request, pk=None):
        if request.method == "GET":
            page = self.paginate_queryset(selectors.message_list(selectors.conversation_messages(request.user, pk)))
            # Messages are read through their visible conversation: only an empty page needs to ask if it is.
            if not page and not selectors.visible_conversations(request.user).filter(pk=pk).exists():
                raise Http404
            return self.get_paginated_response(s.MessageSerializer(page, many=True).data)
        conversation = self.get_object()
        data = s.NewMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = send_message(
            conversation, request.user, text=data.validated_data["text"],
            channel=data.validated_data.get("channel") or None, private=data.validated_data["private"],
            subject=data.validated_data["subject"], cc=data.validated_data["cc"],
            mentions=data.validated_data["mentions"], files=data.validated_data["files"],
        )
        message = selectors.message_list(type(message).objects.filter(pk=message.pk)).get()
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ContactViewSet(VisibleRowsViewSet):
    serializer_class = s.ContactSerializer
    pagination_class = ContactsByName
    queryset = Contact.objects.none()

    def get_queryset(self):
        contacts = selectors.visible_contacts(self.request.user).prefetch_related(
            "identities", "labels", Prefetch("merges", ContactMerge.objects.select_related("merged_contact"))
        )
        if self.action == "list":
            params = self.request.query_params
            if params.get("q"):
                contacts = contacts.filter(contacts_matching(params["q"]))
            if params.get("label"):
                contacts = contacts.filter(labels__name=params["label"])
            contacts = contacts.annotate(conversations_count=Count("conversations", distinct=True))
        return contacts

    @extend_schema(parameters=[OpenApiParameter("q", str, description="name, email or phone (any format)"),
                               OpenApiParameter("label", str, description="label name")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.NewContactSerializer, responses=s.ContactSerializer)
    def create(self, request):
        data = s.NewContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identities = [(i["kind"], i["value"]) for i in data.validated_data["identities"]]
        contact = contact_services.create_contact(data.validated_data["name"].strip(), identities)
        return Response(s.ContactSerializer(self.get_queryset().get(pk=contact.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.NewIdentitySerializer, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def identities(self, request, pk=None):
        contact = self.get_object()
        data = s.NewIdentitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact_services.add_identity(contact, data.validated_data["kind"], data.validated_data["value"])
        return Response(s.ContactSerializer(self.get_queryset().get(pk=contact.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"identities/(?P<identity_id>\d+)")
    def remove_identity(self, request, pk=None, identity_id=None):
        identity = get_object_or_404(self.get_object().identities, pk=identity_id)
        contact_services.remove_identity(identity)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ContactUpdateSerializer, responses=s.ContactSerializer)
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        changes = s.ContactUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        contact_services.update_contact(contact, **changes.validated_data)
        return Response(s.ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)

    @extend_schema(responses=s.MessageSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=NewestFirst)
    def timeline(self, request, pk=None):
        """Every message, call, note and campaign touch of the contact, across conversations and channels."""
        contact_id = int(pk)
        page = self.paginate_queryset(selectors.message_list(selectors.contact_timeline(request.user, contact_id)))
        # A visible message of one of the contact's own conversations proves the contact visible, which
        # spares the usual page a query. (An un-merge moves conversations back but leaves their newer
        # messages with the contact they were merged into, so other messages prove nothing.)
        proven = any(message.conversation_contact_id == contact_id for message in page)
        if not proven and not selectors.visible_contacts(request.user).filter(pk=contact_id).exists():
            raise Http404
        return self.get_paginated_response(s.MessageSerializer(page, many=True).data)

    @extend_schema(responses=s.ConversationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def conversations(self, request, pk=None):
        # Only whether the contact is visible: the detail's prefetches (identities, labels, merges) go unused.
        contact = get_object_or_404(selectors.visible_contacts(request.user).only("id"), pk=pk)
        conversations = selectors.conversation_rows(request.user).filter(contact=contact).order_by("-last_message_at")
        return Response(s.ConversationSerializer(conversations[:100], many=True).data)

    @extend_schema(request=None, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        contact = self.get_object()
        other = get_object_or_404(self.get_queryset(), pk=int_param(request.data, "other"))
        try:
            contact_services.merge_contacts(contact, other)
        except ValueError as exc:
            raise ValidationError({"other": str(exc)}) from None
        return Response(s.ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)

    @extend_schema(request=None, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def unmerge(self, request, pk=None):
        contact = self.get_object()
        merge = get_object_or_404(ContactMerge, pk=int_param(request.data, "merge_id"), into=contact)
        try:
            contact_services.unmerge_contacts(merge)
        except ValueError as exc:
            raise ValidationError({"merge_id": str(exc)}) from None
        return Response(s.ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)


class SettingsViewSet(viewsets.ModelViewSet):
    """What an admin sets up and everyone else reads (inboxes, teams, labels, canned responses):
    short lists, answered whole."""

    lookup_value_regex = r"\d+"
    permission_classes = [IsHeronUser, IsAdminOrReadOnly]
    pagination_class = None


class InboxViewSet(SettingsViewSet):
    serializer_class = s.InboxSerializer
    queryset = Inbox.objects.select_related("team").order_by("id")
    http_method_names = ["get", "post", "patch", "delete"]

    def perform_create(self, serializer):
        credentials = serializer.validated_data.pop("credentials", {})
        inbox = Inbox(**serializer.validated_data)
        inbox.credentials = credentials
        inbox.save()
        serializer.instance = inbox

    def perform_update(self, serializer):
        credentials = serializer.validated_data.pop("credentials", None)
        inbox = serializer.save()
        if credentials:
            inbox.credentials = credentials
            inbox.save(update_fields=["encrypted_credentials"])


class AgentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = HERON
    serializer_class = s.AgentSerializer
    pagination_class = None
    queryset = User.objects.filter(is_active=True, heron__isnull=False).select_related("heron").prefetch_related(
        "heron__teams"
    ).order_by("first_name", "email")


class TeamViewSet(SettingsViewSet):
    serializer_class = s.TeamSerializer
    queryset = Team.objects.order_by("name")


class LabelViewSet(SettingsViewSet):
    serializer_class = s.LabelSerializer
    queryset = Label.objects.order_by("name")


class CannedResponseViewSet(SettingsViewSet):
    serializer_class = s.CannedResponseSerializer
    queryset = CannedResponse.objects.order_by("shortcut")


class EventsView(APIView):
    """What a client missed while disconnected, in id order, filtered like the websocket."""

    permission_classes = HERON
    LIMIT = 500

    @extend_schema(parameters=[OpenApiParameter("after", int, required=True)], responses={200: dict})
    def get(self, request):
        after = int_param(request.query_params, "after") if "after" in request.query_params else None
        if after is None:
            raise ValidationError({"after": "Give the id of the last event you applied (0 for all)."})
        events = list(selectors.visible_events(request.user, after)[: self.LIMIT])
        last_id = events[-1].pk if events else after
        return Response({"events": [e.as_frame() for e in events], "last_id": last_id})


class AttachmentView(APIView):
    """Files are served only to users who may see the conversation."""

    permission_classes = HERON

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int):
        attachment = (
            Attachment.objects.filter(pk=pk, message__in=selectors.visible_messages(request.user)).first()
        )
        if attachment is None or not attachment.file:
            raise Http404
        inline = attachment.content_type in INLINE_IMAGE_TYPES or attachment.content_type.startswith(
            ("audio/", "video/")
        )
        response = FileResponse(
            attachment.file.open("rb"), content_type=attachment.content_type or "application/octet-stream",
            as_attachment=not inline, filename=attachment.filename,
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Even a file that slips past the type check cannot run script on our origin.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
        return response


class MessageOriginalView(APIView):
    """An inbound email exactly as it arrived (raw MIME), for "View original"; visible like its timeline."""

    permission_classes = HERON

    @extend_schema(
        parameters=[OpenApiParameter("download", bool, description="1: as message-<id>.eml (message/rfc822)")],
        responses={(200, "text/plain"): OpenApiTypes.STR, (200, "message/rfc822"): OpenApiTypes.BINARY,
                   404: OpenApiResponse(description="No such message for you, or it has no original")},
    )
    def get(self, request, pk: int):
        message = get_object_or_404(selectors.visible_messages(request.user), pk=pk)
        original = original_email(message)
        if original is None:
            raise NotFound("This message has no original: only inbound emails keep the message as it arrived.")
        if request.query_params.get("download") in ("1", "true"):
            response = HttpResponse(original, content_type="message/rfc822")
            response["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
        else:
            # Shown as text: a browser would offer to download message/rfc822, or render parts of it.
            response = HttpResponse(original, content_type="text/plain; charset=utf-8")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response
