"""Settings: HTTP, console log-in and the web chat. Part of ``hub.config.Settings``."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from hub.client_address import parse_networks


class HttpSettings(BaseModel):
    """Where the hub listens."""

    host: str = Field("127.0.0.1", description="Interface to bind; 0.0.0.0 in a container.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0 picks a free one).")
    public_url: str | None = Field(
        None, description="Base URL shown to people (console links, widget tag). Derived when unset."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra origins allowed to open the console WebSocket (the hub's own is always allowed).",
    )
    header_timeout_s: float = Field(
        15.0, gt=0, description="A request line and headers not complete this long after the connection opened "
                                "(or after their first byte, on a kept-alive connection) close the connection.")
    idle_timeout_s: float = Field(75.0, gt=0, description="A kept-alive connection idle this long is closed.")
    ws_send_timeout_s: float = Field(
        5.0, gt=0, description="A WebSocket frame (console or widget) not written within this time means the client "
                               "stopped reading: the socket is closed (1013) and the client reconnects and resyncs.")
    ws_buffer_frames: int = Field(
        256, ge=1, description="Frames queued for one WebSocket; one more means the client stopped reading: the "
                               "connection is dropped and the client reconnects and resyncs.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (IP addresses or networks) whose X-Forwarded-For names the client; from any "
                    "other peer the header is ignored and the peer's own address counts (rate limits, logs).")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # raises ValueError naming the bad entry
        return value


class LoginSettings(BaseModel):
    """Console login throttling (shared by every process through Redis) and the argon2 thread pool.

    After ``*_free_failures`` failed logins, the account (or the client address) waits
    ``backoff_base_s`` * 2^(failures - free) seconds, at most ``backoff_max_s``, before the next
    try (429 with Retry-After); a success clears the account's count."""

    account_free_failures: int = Field(5, ge=1, description="Failed logins of one username before it backs off.")
    address_free_failures: int = Field(30, ge=1, description="Failed logins from one client address before it "
                                                             "backs off (any usernames).")
    backoff_base_s: float = Field(1.0, gt=0, description="First backoff; it doubles with every further failure.")
    backoff_max_s: float = Field(900.0, gt=0, description="Longest backoff (a lockout window, not a permanent lock).")
    forget_after_s: float = Field(3600.0, gt=0, description="A count without failures this long is forgotten.")
    hash_threads: int = Field(2, ge=1, description="Threads checking passwords (argon2id takes 64 MiB each).")
    hash_queue: int = Field(32, ge=0, description="Password checks waiting for a thread; more are answered "
                                                  "503 at once.")


class WebChatSettings(BaseModel):
    """The customer web-chat widget."""

    max_text_chars: int = Field(4000, gt=0, le=10_000,
                                description="Longest message accepted from a customer, and longest agent reply to one.")
    max_frame_bytes: int = Field(16384, gt=0, description="Largest WebSocket frame accepted.")
    rate_per_minute: int = Field(60, gt=0, description="Messages per minute per visitor before rate limiting.")
    default_queue: str = Field("general", description="Queue new web-chat conversations start in.")
    identities_per_minute: float = Field(
        10.0, gt=0, description="New visitor identities one client address may get per minute (after a burst).")
    identities_burst: int = Field(20, ge=1, description="New visitor identities one client address may get at once.")
    conversations_per_minute: float = Field(
        10.0, gt=0, description="New conversations one client address may open per minute (after a burst).")
    conversations_burst: int = Field(20, ge=1, description="New conversations one client address may open at once.")
    max_identities_per_connection: int = Field(
        3, ge=1, description="New identities one widget connection may get before it is closed.")
    max_conversations_per_connection: int = Field(
        5, ge=1, description="Conversations one widget connection may open before it is closed.")
    connections_per_minute: float = Field(
        60.0, gt=0, description="Widget connections one client address may open per minute (after a burst); "
                                "more are answered 429 before the WebSocket upgrade.")
    connections_burst: int = Field(60, ge=1, description="Widget connections one client address may open at once.")
    frames_per_second: float = Field(
        5.0, gt=0, description="Frames one widget connection may send per second (after a burst), refused ones "
                               "included; a connection over it is closed (1008).")
    frames_burst: int = Field(40, ge=1, description="Frames one widget connection may send at once.")
