"""The inbox websocket: live events for what the user may see, plus presence (docs/realtime.md)."""

from collections import deque
from dataclasses import dataclass, field
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user

from config import json_input
from config.request_limits import FRAME_MAX_CHARS
from inbox.models import Conversation, Event
from inbox.realtime.auth import user_for_token
from inbox.realtime.groups import groups_for, groups_for_user, user_group
from inbox.selectors import can_reply, conversation_audience, visible_conversations

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

PRESENCE_STATES = {"viewing", "replying", "idle"}
MAX_ID = 2**63 - 1  # a bigint: a larger conversation id names no conversation
RECENT_IDS_KEPT = 512


@dataclass(frozen=True)
class Access:
    """What a socket's person may hear and do now; no user: their credentials no longer hold."""

    user: object = None
    groups: list[str] = field(default_factory=list)
    may_write: bool = False


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined: list[str] = []
        self.may_write = False
        # A socket in two team groups hears an event twice; remember recent ids to send it once
        # (the deque says which to forget, the set answers "seen?" without scanning it).
        self.recent_order: deque[int] = deque()
        self.recent_ids: set[int] = set()
        if not await self._join(await database_sync_to_async(self._access_for)(user)):
            return
        await self.accept()
        last_id = await database_sync_to_async(lambda: Event.objects.order_by("-id").values_list("id", flat=True).first())()
        await self.send_json({"type": "hello", "last_event_id": last_id or 0})

    def _access_for(self, user) -> Access:
        groups = groups_for_user(user)
        return Access(user=user, groups=[user_group(user.pk), *groups] if groups else [], may_write=can_reply(user))

    async def _join(self, access: Access) -> bool:
        """Listen to exactly `access.groups`; close the socket when there are none (False)."""
        if access.user is None or not access.groups:
            await self._leave(self.groups_joined)
            self.groups_joined = []
            await self.close(code=4401 if access.user is None else 4403)
            return False
        await self._leave([group for group in self.groups_joined if group not in access.groups])
        for group in access.groups:
            if group not in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        self.scope["user"], self.groups_joined, self.may_write = access.user, access.groups, access.may_write
        return True

    async def _leave(self, groups: list[str]) -> None:
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code):
        await self._leave(getattr(self, "groups_joined", []))

    async def heron_access(self, message):
        """What the person may see changed (`realtime.access`): check the credentials again."""
        session = self.scope.get("session")
        if message.get("ended_session") and session is not None and session.session_key == message["ended_session"]:
            await self._join(Access(user=None))
            return
        await self._join(await database_sync_to_async(self._access_now)())

    def _access_now(self) -> "Access":
        """The socket's credentials read again: its token, else its session (signed out, or the
        password changed: nobody)."""
        token_key = self.scope.get("auth_token")
        if token_key:
            user = user_for_token(token_key)
        else:
            user = get_user(SimpleNamespace(session=SessionStore(self.scope["session"].session_key)))
        return self._access_for(user) if user.is_authenticated else Access(user=None)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A frame that is not JSON text (read as config/json_input.py reads it), or is too large, gets
        an error frame; the socket stays open."""
        content, detail = None, "Frames must be JSON text"
        if text_data is not None and len(text_data) > FRAME_MAX_CHARS:
            detail = f"Frames must be at most {FRAME_MAX_CHARS} characters"
        elif text_data is not None:
            try:
                content = json_input.loads(text_data)
            except json_input.JSONTooDeep as exc:
                detail = str(exc)
            except json_input.JSONInputError:
                pass
        if content is None:
            await self.send_json({"type": "error", "detail": detail})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "presence":
            await self.send_json({"type": "error", "detail": "Unknown message type"})
            return
        if not self.may_write:
            await self.send_json({"type": "error", "detail": "Read-only access: your role sends no presence"})
            return
        state = content.get("state")
        conversation_id = content.get("conversation")
        if state not in PRESENCE_STATES or type(conversation_id) is not int or not 0 < conversation_id <= MAX_ID:
            await self.send_json({"type": "error", "detail": "presence needs a conversation id and a state"})
            return
        groups = await self._groups_if_visible(conversation_id)
        if groups is None:
            await self.send_json({"type": "error", "detail": "No such conversation"})
            return
        user = self.scope["user"]
        frame = {
            "type": "presence",
            "data": {
                "conversation": conversation_id,
                "user": {"id": user.pk, "name": user.get_full_name() or user.email},
                "state": state,
            },
        }
        for group in groups:
            await self.channel_layer.group_send(group, {"type": "heron.presence", "frame": frame})

    @database_sync_to_async
    def _groups_if_visible(self, conversation_id: int) -> list[str] | None:
        conversation = (
            visible_conversations(self.scope["user"]).select_related("inbox").filter(pk=conversation_id).first()
        )
        return groups_for(conversation_audience(conversation)) if isinstance(conversation, Conversation) else None

    async def dispatch(self, message):
        """Broadcast frames are only forwarded, so they skip the close_old_connections() thread hop
        Channels makes before every handler: one per socket per event, a third of a busy process's
        CPU. Every database read here goes through database_sync_to_async, which cleans up itself."""
        forward = FORWARDED_FRAMES.get(message.get("type"))
        if forward is None:
            await super().dispatch(message)
        else:
            await forward(self, message)

    async def heron_events(self, message):
        for event_id, text in message["frames"]:  # one transaction's events, in order
            if event_id in self.recent_ids:
                continue
            self.recent_ids.add(event_id)
            self.recent_order.append(event_id)
            if len(self.recent_order) > RECENT_IDS_KEPT:
                self.recent_ids.discard(self.recent_order.popleft())
            await self.send(text_data=text)  # serialized once by the publisher

    async def heron_presence(self, message):
        frame = message["frame"]
        # Agents' presence comes back to everyone but its sender; a customer's typing frame has no user.
        user = frame["data"].get("user")
        if user and user.get("id") == self.scope["user"].pk:
            return
        await self.send_json(frame)


FORWARDED_FRAMES = {"heron.events": InboxConsumer.heron_events, "heron.presence": InboxConsumer.heron_presence}
