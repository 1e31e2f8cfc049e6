"""A Telegram Bot API server stand-in on loopback, for tests and bench only.

Telegram's cloud cannot be reached from here, so python-telegram-bot is pointed at this server
through its ``base_url``/``base_file_url``. Payloads follow https://core.telegram.org/bots/api:
every required field, dates in Unix seconds, ``{"ok": false, "error_code", "description",
"parameters"}`` error objects (429 with ``retry_after``, 400 "chat not found", 401 for a wrong
token, 403 "bot was blocked by the user", 409 for getUpdates while a webhook is set).

Deviation on purpose: ``setWebhook`` accepts plain-HTTP loopback URLs (the real API demands
HTTPS on ports 443, 80, 88 or 8443); ``require_https=True`` restores that check.

Runs in the test's process: tests drive the "Telegram user" with Python methods (``user``,
``send_text``, ``send_photo``, ``send_document``, ``press_button``, ``edit_text``) and read
what the bot sent with ``sent_to``; ``fail_next`` forces errors, ``down``/``up`` make it
unreachable. ``python -m tests.standins.telegram_bot_api --port N`` serves it standalone
with a small control API under ``/_control`` (bench).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

logger = logging.getLogger(__name__)

Json = dict[str, Any]
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ALL_UPDATES = ("message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
               "inline_query", "my_chat_member")


class ApiError(Exception):
    """One Bot API error answer; ``parameters`` is the ResponseParameters object."""

    def __init__(self, code: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


FORCED: dict[str, Callable[[int], ApiError]] = {
    "429": too_many_requests,
    "500": lambda _: ApiError(500, "Internal Server Error"),
    "502": lambda _: ApiError(502, "Bad Gateway"),
    "blocked": lambda _: ApiError(403, "Forbidden: bot was blocked by the user"),
    "chat_not_found": lambda _: ApiError(400, "Bad Request: chat not found"),
}


@dataclass(slots=True)
class TgUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def json(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user

    def chat(self) -> Json:  # a private chat's id is the user's id
        chat: Json = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)


@dataclass(slots=True)
class Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class BotApiStandIn:
    """The Bot API of one bot (``token``) and the Telegram users who talk to it."""

    def __init__(self, token: str = "123456789:AAF-standin-token_for-tests-only0000", *,
                 bot_username: str = "northgrid_hub_bot", require_https: bool = False,
                 webhook_retry_s: float = 0.2, webhook_max_attempts: int = 30) -> None:
        self.token = token
        self.bot = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Northgrid", "username": bot_username}
        self.require_https = require_https
        self.webhook = Webhook()
        self.sent: dict[int, list[Json]] = {}  # chat id -> messages the bot sent (as last edited)
        self.answered: list[Json] = []  # answerCallbackQuery calls
        self.webhook_deliveries: list[int] = []  # update ids delivered with a 2xx
        self.calls: list[tuple[str, float]] = []  # (method name, loop time), in order
        self._users: dict[int, TgUser] = {}
        self._blocked: set[int] = set()
        self._files: dict[str, StoredFile] = {}
        self._callbacks: dict[str, Json] = {}
        self._messages: dict[tuple[int, int], Json] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._update_ids = itertools.count(700_000_001)
        self._user_ids = itertools.count(5_100_000_001)
        self._pending: list[Json] = []
        self._new_update = asyncio.Condition()
        self._forced: list[tuple[str, str, int]] = []  # (method, kind, retry_after)
        self._webhook_retry_s = webhook_retry_s
        self._webhook_max_attempts = webhook_max_attempts
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's ``base_url`` should be (it appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self, port: int = 0) -> BotApiStandIn:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        add_control_routes(app, self)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        await self._listen(port)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._deliverer = asyncio.create_task(self._deliver_webhooks(), name="standin:telegram:webhook")
        return self

    async def _listen(self, port: int) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[-1][1]

    async def down(self) -> None:
        """Stop listening (connections are refused) but keep every chat, file and pending update."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            for connection in self._runner.server.connections:  # keep-alive connections too
                connection.force_close()

    async def up(self) -> None:
        if self._site is None:
            await self._listen(self.port)

    async def stop(self) -> None:
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the Telegram user's side -----------------------------------------------------------------
    def user(self, first_name: str = "Tom", last_name: str | None = "Lee", username: str | None = None) -> TgUser:
        """A Telegram user who opened a private chat with the bot (so ``sendMessage`` finds the chat)."""
        user = TgUser(next(self._user_ids), first_name, last_name, username)
        self._users[user.id] = user
        self.sent.setdefault(user.id, [])
        return user

    def block(self, user: TgUser) -> None:
        self._blocked.add(user.id)

    async def send_text(self, user: TgUser, text: str) -> Json:
        return await self._user_message(user, {"text": text})

    async def send_photo(self, user: TgUser, sizes: list[tuple[int, int, bytes]], caption: str | None = None) -> Json:
        """A photo in several sizes (Telegram sends thumbnails up to the original), smallest first."""
        photo = []
        for width, height, data in sizes:
            stored = self._store_file(data, "photos", "jpg")
            photo.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                          "width": width, "height": height, "file_size": len(data)})
        content: Json = {"photo": photo}
        if caption:
            content["caption"] = caption
        return await self._user_message(user, content)

    async def send_document(self, user: TgUser, data: bytes, file_name: str, mime_type: str,
                            caption: str | None = None, *, file_size: int | None = None) -> Json:
        """``file_size`` may claim another size than ``data`` has (a lying or huge upload)."""
        stored = self._store_file(data, "documents", file_name.rsplit(".", 1)[-1] if "." in file_name else "bin")
        content: Json = {"document": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                                      "file_name": file_name, "mime_type": mime_type,
                                      "file_size": len(data) if file_size is None else file_size}}
        if caption:
            content["caption"] = caption
        return await self._user_message(user, content)

    async def edit_text(self, user: TgUser, message_id: int, text: str) -> Json:
        message = {**self._messages[(user.id, message_id)], "text": text, "edit_date": int(time.time())}
        self._messages[(user.id, message_id)] = message
        return await self._push({"edited_message": message})

    async def press_button(self, user: TgUser, message_id: int, callback_data: str) -> Json:
        """The user presses an inline button of a message the bot sent; the data must be on it."""
        message = self._messages[(user.id, message_id)]
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if callback_data not in [b.get("callback_data") for row in rows for b in row]:
            raise ValueError("no such button on that message")
        query = {"id": str(secrets.randbits(63)), "from": user.json(), "message": message,
                 "chat_instance": str(-user.id * 7919), "data": callback_data}
        self._callbacks[query["id"]] = query
        return await self._push({"callback_query": query})

    async def redeliver(self, update: Json) -> None:
        """Deliver an update again, same ``update_id`` (what Telegram does after a lost answer)."""
        await self._enqueue(update)

    def sent_to(self, user: TgUser | int) -> list[Json]:
        return list(self.sent.get(user.id if isinstance(user, TgUser) else user, []))

    def fail_next(self, method: str, kind: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` fail: kind is one of ``FORCED`` ("429", "500", …)."""
        self._forced.extend([(method, kind, retry_after)] * times)

    def pending_update_count(self) -> int:
        return len(self._pending)

    # -- internals of the user's side -------------------------------------------------------------
    def _store_file(self, data: bytes, folder: str, extension: str) -> StoredFile:
        unique = secrets.token_urlsafe(12)
        stored = StoredFile(file_id=f"AgAC{secrets.token_urlsafe(40)}", file_unique_id=unique,
                            file_path=f"{folder}/file_{len(self._files)}.{extension}", data=data)
        self._files[stored.file_id] = stored
        return stored

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _user_message(self, user: TgUser, content: Json) -> Json:
        self._users.setdefault(user.id, user)
        self._blocked.discard(user.id)  # writing to the bot again unblocks it
        message = {"message_id": self._next_message_id(user.id), "from": user.json(), "chat": user.chat(),
                   "date": int(time.time()), **content}
        self._messages[(user.id, message["message_id"])] = message
        return await self._push({"message": message})

    async def _push(self, content: Json) -> Json:
        update = {"update_id": next(self._update_ids), **content}
        await self._enqueue(update)
        return update

    async def _enqueue(self, update: Json) -> None:
        async with self._new_update:
            self._pending.append(update)
            self._new_update.notify_all()

    # -- the bot's side: HTTP ---------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append((method, asyncio.get_running_loop().time()))
        try:
            if not secrets.compare_digest(request.match_info["token"], self.token):
                raise ApiError(401, "Unauthorized")
            handler = self._methods().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            self._raise_forced(method)
            result = await handler(await _params(request))
        except ApiError as err:
            return web.json_response(err.body(), status=err.code)
        return web.json_response({"ok": True, "result": result})

    def _methods(self) -> dict[str, Callable[[Json], Awaitable[Any]]]:
        return {"getme": self._get_me, "sendmessage": self._send_message, "getfile": self._get_file,
                "answercallbackquery": self._answer_callback_query, "setwebhook": self._set_webhook,
                "editmessagereplymarkup": self._edit_reply_markup, "deletewebhook": self._delete_webhook,
                "getwebhookinfo": self._get_webhook_info, "getupdates": self._get_updates,
                "logout": self._true, "close": self._true}

    def _raise_forced(self, method: str) -> None:
        for index, (forced_method, kind, retry_after) in enumerate(self._forced):
            if forced_method.lower() == method.lower():
                del self._forced[index]
                raise FORCED[kind](retry_after)

    async def _true(self, _: Json) -> bool:
        return True

    async def _get_me(self, _: Json) -> Json:
        return {**self.bot, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _chat(self, params: Json) -> int:
        raw = params.get("chat_id")
        if raw in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id not in self._users:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    async def _send_message(self, params: Json) -> Json:
        chat_id = self._chat(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        message: Json = {"message_id": self._next_message_id(chat_id), "from": dict(self.bot),
                         "chat": self._users[chat_id].chat(), "date": int(time.time()), "text": text}
        markup = _reply_markup(params)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        self.sent[chat_id].append(message)
        return message

    async def _edit_reply_markup(self, params: Json) -> Json:
        chat_id = self._chat(params)
        message = self._messages.get((chat_id, _int(params, "message_id")))
        if message is None or message["from"]["id"] != self.bot["id"]:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = _reply_markup(params)
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited["edit_date"] = int(time.time())
        if markup is not None:
            edited["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = edited
        self.sent[chat_id] = [edited if m["message_id"] == edited["message_id"] else m for m in self.sent[chat_id]]
        return edited

    async def _answer_callback_query(self, params: Json) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if self._callbacks.pop(query_id, None) is None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.answered.append({"callback_query_id": query_id, "text": params.get("text")})
        return True

    async def _get_file(self, params: Json) -> Json:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data),
                "file_path": stored.file_path}

    async def _download(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.match_info["token"], self.token):
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _set_webhook(self, params: Json) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        if self.require_https and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        allowed = _json(params, "allowed_updates")
        self.webhook = Webhook(url=url, secret_token=str(secret) if secret is not None else None,
                               allowed_updates=list(allowed) if allowed else None,
                               max_connections=_int(params, "max_connections", 40))
        async with self._new_update:
            self._new_update.notify_all()
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        self.webhook = Webhook()
        return True

    async def _get_webhook_info(self, _: Json) -> Json:
        info: Json = {"url": self.webhook.url, "has_custom_certificate": False,
                      "pending_update_count": len(self._pending)}
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self.webhook.allowed_updates:
                info["allowed_updates"] = self.webhook.allowed_updates
            if self.webhook.last_error_date is not None:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        return info

    async def _get_updates(self, params: Json) -> list[Json]:
        if self.webhook.url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                                "to delete the webhook first")
        offset, limit = _int(params, "offset", 0), min(max(_int(params, "limit", 100), 1), 100)
        timeout = min(max(_int(params, "timeout", 0), 0), 50)
        allowed = _json(params, "allowed_updates")
        async with self._new_update:
            if offset:  # everything before ``offset`` is confirmed and forgotten
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._new_update.wait_for(lambda: bool(self._pending) or bool(self.webhook.url))
            return [u for u in self._pending if _allowed(u, allowed)][:limit]

    # -- webhook delivery ---------------------------------------------------------------------------
    async def _deliver_webhooks(self) -> None:
        """POST pending updates one by one to the webhook, in order; retry on non-2xx like Telegram."""
        while True:
            async with self._new_update:
                await self._new_update.wait_for(lambda: bool(self._pending and self.webhook.url))
                update = self._pending[0]
            delivered = await self._post_until_accepted(update)
            async with self._new_update:
                if delivered and self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                    self.webhook_deliveries.append(update["update_id"])

    async def _post_until_accepted(self, update: Json) -> bool:
        delay = self._webhook_retry_s
        for _ in range(self._webhook_max_attempts):
            hook = self.webhook
            if not hook.url:
                return False  # the webhook was removed: the update waits for getUpdates
            if hook.allowed_updates and not _allowed(update, hook.allowed_updates):
                return True
            if await self._post(hook, update):
                return True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        logger.warning("standin.telegram.webhook.gave_up update_id=%s", update["update_id"])
        return True

    async def _post(self, hook: Webhook, update: Json) -> bool:
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with self._http.post(hook.url, data=json.dumps(update), headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as err:
            error = f"Connection refused ({type(err).__name__})"
        hook.last_error_date, hook.last_error_message = int(time.time()), error
        return False


def _allowed(update: Json, allowed: Any) -> bool:
    if not allowed:
        return not ({"chat_member", "message_reaction", "message_reaction_count"} & update.keys())
    return bool(set(allowed) & update.keys())


async def _params(request: web.Request) -> Json:
    """Bot API parameters arrive as query string, urlencoded or multipart form, or a JSON body."""
    params: Json = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON object") from None
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
    return params


def _int(params: Json, name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise ApiError(400, f"Bad Request: {name} is empty")
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _bool(params: Json, name: str) -> bool:
    return str(params.get(name, "")).lower() in {"true", "1"}


def _json(params: Json, name: str) -> Any:
    raw = params.get(name)
    if raw is None or not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None


def _reply_markup(params: Json) -> Json | None:
    markup = _json(params, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


# -- control API (standalone use: bench) ------------------------------------------------------------
def add_control_routes(app: web.Application, standin: BotApiStandIn) -> None:
    """``/_control``: create users, inject their text, read what the bot sent. Loopback only."""

    async def new_user(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        return web.json_response(standin.user(str(body.get("first_name", "Tom"))).json())

    async def say(request: web.Request) -> web.Response:
        body = await request.json()
        user = standin._users[int(body["user_id"])]
        return web.json_response(await standin.send_text(user, str(body["text"])))

    async def sent(request: web.Request) -> web.Response:
        return web.json_response(standin.sent_to(int(request.query["chat_id"])))

    app.router.add_post("/_control/users", new_user)
    app.router.add_post("/_control/say", say)
    app.router.add_get("/_control/sent", sent)


@contextlib.asynccontextmanager
async def running_standin(**options: Any) -> AsyncIterator[BotApiStandIn]:
    standin = BotApiStandIn(**options)
    await standin.start()
    try:
        yield standin
    finally:
        await standin.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="123456789:AAF-standin-token_for-tests-only0000")
    args = parser.parse_args()

    async def serve() -> None:
        async with running_standin(token=args.token) as standin:
            await standin.down()
            await standin._listen(args.port)
            print(f"telegram stand-in on {standin.url} (base_url {standin.base_url})", flush=True)
            await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
