"""The e-mail survey's public page: ``GET /survey/<token>`` shows the question with 1-5,
``POST /survey/<token>`` records the score (docs/api.md "Surveys").

No login: the signed token (``hub.domain.survey_links``) is the whole authority and names one
conversation until it expires. The POST is CSRF-safe: a forging site cannot know the token, and
a cross-site ``Origin`` is refused besides. One answer per survey; every request is rate limited
per client address. The page has no script; text is escaped; the score is all that is stored.
"""

from __future__ import annotations

import html
import logging

from aiohttp import web

from console.keys import HUB
from hub.client_address import client_address as address_of
from hub.client_address import parse_networks
from hub.domain.survey_links import BadLink
from hub.domain.surveys import SCALE, SurveyState, language_of, thanks
from hub.ports import RateLimiter
from hub.surveys.service import SurveyService

logger = logging.getLogger(__name__)

SURVEYS = web.AppKey("surveys", SurveyService)
LIMITER = web.AppKey("survey_limiter", RateLimiter)
PER_MINUTE = web.AppKey("survey_per_minute", float)
MAX_BODY = 256
_TEXT = {
    "en": ("How satisfied are you with our service?", "1 = very dissatisfied, 5 = very satisfied", "Send",
           "This survey has been answered. Thank you.", "This link is not valid.", "This link has expired."),
    "zh": ("您对本次服务满意吗？", "1分非常不满意，5分非常满意", "提交",  # noqa: RUF001
           "您已完成评价，谢谢。", "链接无效。", "链接已过期。"),  # noqa: RUF001
}


def add_survey_routes(app: web.Application, service: SurveyService, limiter: RateLimiter, per_minute: float) -> None:
    app[SURVEYS], app[LIMITER], app[PER_MINUTE] = service, limiter, per_minute
    app.router.add_get("/survey/{token}", get_survey)
    app.router.add_post("/survey/{token}", post_survey)


class Refused(Exception):
    """A request answered with an error page (``page``) instead of the survey."""

    def __init__(self, page: web.Response) -> None:
        super().__init__(page.status)
        self.page = page


async def _survey_of(request: web.Request) -> tuple[str, str]:
    """The conversation the token names and the survey's language; raises ``Refused`` otherwise."""
    per_minute = request.app[PER_MINUTE]
    if not await request.app[LIMITER].allow(f"survey-page:{client_address(request)}",
                                            rate_per_s=per_minute / 60, burst=max(3.0, per_minute / 4)):
        raise Refused(_html(429, "en", "<h1>Too many requests; wait a minute.</h1>", {"Retry-After": "60"}))
    service = request.app[SURVEYS]
    try:
        claim = service.verify(request.match_info["token"])
    except BadLink as err:
        expired = err.reason == "expired"
        raise Refused(_message(410 if expired else 404, "en", _TEXT["en"][5 if expired else 4])) from None
    survey = await service.store.get(claim.conversation_id)
    if survey is None:
        raise Refused(_message(404, "en", _TEXT["en"][4]))
    if survey.state is SurveyState.ANSWERED:
        raise Refused(_message(409, survey.language, _TEXT[language_of(survey.language)][3]))
    return claim.conversation_id, survey.language


async def get_survey(request: web.Request) -> web.Response:
    try:
        _conversation, language = await _survey_of(request)
    except Refused as refused:
        return refused.page
    ask, scale, send = _TEXT[language_of(language)][:3]
    buttons = "".join(f'<button type="submit" name="score" value="{n}" data-score="{n}">{n}</button>' for n in SCALE)
    body = (f"<h1>{html.escape(ask)}</h1><p>{html.escape(scale)}</p>"
            f'<form method="post" action="{html.escape(request.path)}" aria-label="{html.escape(send)}">'
            f'<div class="scores">{buttons}</div></form>')
    return _html(200, language, body)


async def post_survey(request: web.Request) -> web.Response:
    origin = request.headers.get("Origin")
    own = {f"{request.scheme}://{request.host}", (request.app[HUB].settings.http.public_url or "").rstrip("/")}
    if origin is not None and origin not in own:
        return _message(403, "en", "Cross-site form refused.")
    try:
        conversation_id, language = await _survey_of(request)
    except Refused as refused:
        return refused.page
    if request.content_type != "application/x-www-form-urlencoded" or (request.content_length or 0) > MAX_BODY:
        return _message(400, language, "Send the form.")
    raw = (await request.post()).get("score")
    if not isinstance(raw, str) or not raw.isdigit() or int(raw) not in SCALE:
        return _message(400, language, "The score must be 1 to 5.")
    service = request.app[SURVEYS]
    survey = await service.store.get(conversation_id)
    if survey is None or not await service.answered(survey, int(raw), None,
                                                    from_states=(SurveyState.OPEN, SurveyState.STOPPED)):
        return _message(409, language, _TEXT[language_of(language)][3])
    return _message(200, language, thanks(language))


def client_address(request: web.Request) -> str:
    trusted = parse_networks(request.app[HUB].settings.http.trusted_proxies)
    return address_of(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)


def _message(status: int, language: str, text: str) -> web.Response:
    return _html(status, language, f"<h1>{html.escape(text)}</h1>")


def _html(status: int, language: str, body: str, headers: dict[str, str] | None = None) -> web.Response:
    lang = language_of(language)
    page = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>Survey</title><link rel="stylesheet" href="/console/static/survey.css"></head>'
            f'<body><main class="survey">{body}</main></body></html>')
    return web.Response(status=status, text=page, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", **(headers or {})})
