"""Settings: the process's own machinery: embedded services, outbox, message writer, durable consumers.

Part of ``hub.config.Settings``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class EmbeddedSettings(BaseModel):
    """Services the hub starts itself when no URL is configured (development and tests)."""

    data_dir: Path = Field(Path(".hub-data"), description="Where embedded SecantusDB and Redis keep data.")


class OutboxSettings(BaseModel):
    """Staff messages waiting for a store-and-forward channel (SMS, e-mail, Telegram)."""

    poll_s: float = Field(1.0, gt=0, description="How often each process looks for due messages it was not woken for.")
    lease_s: float = Field(60.0, gt=0, description="A send not finished by then (process died) is tried again.")
    parallel: int = Field(16, ge=1, description="Sends in flight per process, all channels together.")


class MessagesSettings(BaseModel):
    """The message path's batching and caching (ADR 0032)."""

    gather_ms: float = Field(10.0, ge=0, description="How long the message writer lets further messages join a "
                                                       "batch before it writes (nothing is acknowledged before; "
                                                       "ADRs 0072, 0074).")
    max_batch: int = Field(500, ge=1, description="Messages written at most in one batch (one insert command).")
    summary_flush_ms: float = Field(
        50.0, ge=0, description="How soon the conversations' delivered and read receipts, coalesced per "
                                "conversation, are written (with the inbox lines waiting for them).")
    line_flush_ms: float = Field(
        250.0, ge=0, description="The longest a conversation's inbox line (preview, unread) waits for a receipt of "
                                 "the same conversation to be written with (ADR 0063); never less than "
                                 "summary_flush_ms.")
    cache_ttl_s: float = Field(30.0, gt=0, description="A conversation the message path knows is read again after "
                                                       "this long even without a fact (the bus is at most once).")
    contact_ttl_s: float = Field(60.0, gt=0, description="A contact the message path recognised by its channel address "
                                                         "is read again after this long even without a ContactChanged "
                                                         "fact (the bus is at most once; ADR 0058).")
    route_ttl_s: float = Field(60.0, gt=0, description="Where a conversation's replies go (the customer's last "
                                                       "channel and address, the thread), known to the process, is "
                                                       "read again after this long even without a fact (ADR 0061).")


class BusSettings(BaseModel):
    """The live fan-out over Redis pub/sub (``hub/bus.py``)."""

    gather_ms: float = Field(10.0, ge=0, description="How long a woken bus sender lets further facts join one "
                                                     "pipeline before it sends (ADRs 0072, 0074): only other "
                                                     "processes wait for it; publishing never waits.")


class ConsumersSettings(BaseModel):
    """Durable consumers: projections that read the event table from their own checkpoints."""

    enabled: bool = Field(True, description="Run the durable projections (kpi_intervals) in this hub.")
    poll_s: float = Field(1.0, gt=0, description="How often the consumers look for new events they were not woken "
                                                "for (one look for all of them: two reads, ADR 0077).")
    gather_s: float = Field(0.25, ge=0, description="After a wake-up, how long a consumer lets further events "
                            "arrive before it reads them, so that a burst of transitions is one batch.")
    batch: int = Field(200, ge=1, description="Events a consumer reads and applies at once.")
