"""The JSON shapes of docs/api.md, built from domain values and stored documents."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from hub.clock import iso
from hub.domain.model import Agent, Message


def message_json(message: Message, *, live: Container[str], with_private: bool = True) -> dict[str, Any]:
    """``live``: the channels whose clients hold a connection (``Capabilities.live``); a customer
    message from one carries the client's own id for it (``client_id``), which the client echoes."""
    data: dict[str, Any] = {
        "id": message.id, "conversation_id": message.conversation_id, "author": message.author.value,
        "author_name": message.author_name, "text": message.text, "sent_at": iso(message.sent_at),
        "status": message.status.value, "channel": message.channel,
    }
    if with_private:
        data["private"] = message.private
    if message.buttons:
        data["buttons"] = [dict(b) for b in message.buttons]
    if message.attachments:
        data["attachments"] = [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                                "url": f"/api/attachments/{a.id}"} for a in message.attachments]
    if with_private and message.meta.get("subject"):
        data["subject"] = message.meta["subject"]
    if with_private and message.meta.get("quoted"):
        data["quoted"] = message.meta["quoted"]
    if message.external_id and message.channel in live:
        data["client_id"] = message.external_id.split(":", 1)[-1]
    return data


def summary_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The inbox line of a conversation, from its stored document."""
    return {
        "id": doc["_id"], "state": doc["state"], "channel": doc["channel"], "queue": doc.get("queue"),
        "priority": doc.get("priority", 0),
        "contact": {"id": doc["contact_id"], "display_name": doc.get("contact_name", "")},
        "agent_id": doc.get("agent_id"), "preview": doc.get("preview", ""),
        "waiting_since": iso(doc.get("queued_at")), "updated_at": iso(doc.get("updated_at")),
        "wrap_up_code": doc.get("wrap_up_code"), "unread": doc.get("unread", 0),
        "skills": list(doc.get("skills", [])),
        "handover": doc.get("handover"),
        "version": doc.get("version"),  # the console drops a summary older than the one it shows
        "labels": sorted(doc.get("labels", [])), "transfer": transfer_json(doc.get("transfer")),
        "snoozed_until": iso(doc.get("snoozed_until")) if doc.get("state") == "assigned" else None,
    }


def transfer_json(transfer: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The last transfer of a conversation (its note is a private message, never in a summary)."""
    if not transfer:
        return None
    return {"from_agent": transfer.get("from_agent"), "by": transfer.get("by"), "by_name": transfer.get("by_name"),
            "to_agent": transfer.get("to_agent"), "note": bool(transfer.get("note")), "at": iso(transfer.get("at"))}


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id, "username": agent.username, "display_name": agent.display_name,
        "role": agent.role.value, "skills": sorted(agent.skills), "capacity": dict(agent.capacity),
        "status": agent.status.value, "disabled": agent.disabled,
        "pause_reason": agent.pause_reason, "status_since": iso(agent.status_since),
        "language": agent.language,  # the console's language she chose, or null (ADR 0048)
        **({"department": agent.department} if agent.department else {}),  # a department user's
    }


def event_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": doc["type"], "from_state": doc.get("from_state"), "to_state": doc["to_state"],
        "at": iso(doc["at"]), "actor": doc.get("actor"), "detail": doc.get("detail", {}),
        "queue": doc.get("queue"), "agent_id": doc.get("agent_id"),
    }
