"""A file an agent sends into a conversation she holds (issue 16 item 4, ADR 0046): checked by its
bytes (``hub.domain.file_types``), stored (``MongoAttachmentStore``, the customers' files' store),
then one message carrying it goes the way any reply goes: pushed live to the web chat widget, or
through the outbox to a channel that attaches files itself (e-mail). A channel that cannot carry a
file gets a signed link to it instead (``hub.domain.file_links``, served by the console at
``/files/{id}``), in the message's text; with no public address known, it is refused."""

from __future__ import annotations

from collections.abc import Callable

from hub.conversations.agents import AgentSide
from hub.conversations.core import ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.domain.events import MessageStored
from hub.domain.file_links import link_path
from hub.domain.file_types import MAX_UPLOAD_BYTES, check_upload
from hub.domain.ids import Author, DeliveryStatus, MessageId, new_id
from hub.domain.model import Agent, Attachment, Message
from hub.domain.reply_limits import ReplyLimit
from hub.domain.text import require_valid_text
from hub.errors import FileTooLarge, InvalidInput, ReplyTooLong, UnsupportedFile
from hub.storage.attachments import MongoAttachmentStore
from hub.wire import message_json


class AgentFiles:
    def __init__(self, core: ConversationCore, desk: AgentSide, outgoing: Outgoing, *,
                 attachments: MongoAttachmentStore, carries_files: Callable[[str], bool],
                 reply_limit: Callable[[str], ReplyLimit], secret: bytes) -> None:
        self._core = core
        self._secret = secret
        self._base_url: str | None = None
        self._desk = desk
        self._outgoing = outgoing
        self._attachments = attachments
        self._carries_files = carries_files
        self._reply_limit = reply_limit

    def attach_base_url(self, base_url: str) -> None:
        """Wiring: the address customers reach the hub at, once it is serving."""
        self._base_url = base_url.rstrip("/")

    async def send(self, agent: Agent, conversation_id: str, *, filename: str, data: bytes, caption: str) -> Message:
        """Raises FileTooLarge (413), UnsupportedFile (415), InvalidInput (400: a channel without
        files, a caption too long or not valid Unicode), Forbidden (403) and NotFound (404)."""
        checked = check_upload(filename, data)
        if isinstance(checked, str):
            raise (FileTooLarge if len(data) > MAX_UPLOAD_BYTES else UnsupportedFile)(checked)
        caption = caption.strip()
        require_valid_text("caption", caption)
        conversation = await self._desk.holding(agent, conversation_id)
        route = await self._outgoing.route(conversation)
        channel, address = route.channel, route.address
        as_link = not self._carries_files(channel)
        if as_link and self._base_url is None:
            raise InvalidInput(f"{channel} does not carry files and the hub has no public address for a link")
        message_id = MessageId(new_id("m"))
        ref_id = new_id("a")
        now = self._core.clock.now()
        text = caption or checked.filename
        if as_link:  # the file's name and its link, after the caption
            link = f"{self._base_url}{link_path(self._secret, ref_id, now)}"
            text = f"{caption}\n{checked.filename}: {link}" if caption else f"{checked.filename}: {link}"
        refusal = self._reply_limit(channel).refusal(text, channel)
        if refusal is not None:
            raise ReplyTooLong(refusal)
        ref = await self._attachments.put(Attachment(filename=checked.filename, content_type=checked.content_type,
                                                     data=data),
                                          conversation_id=conversation.id, message_id=message_id, at=now,
                                          attachment_id=ref_id)
        message = await self._outgoing.store(Message(
            id=message_id, conversation_id=conversation.id, channel=channel, author=Author.AGENT, author_id=agent.id,
            author_name=agent.display_name, text=text, sent_at=now,
            status=DeliveryStatus.SENT, address=address, attachments=(ref,),
        ), thread=route.thread)
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=conversation.agent_id,
                                            message=message_json(message, live=self._core.live)))
        return message
