"""Errors as the HTTP API shows them: ``{"error": {"code", "message"}}`` with a 4xx status."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from console.logsafety import printable
from hub.errors import (
    ConcurrentUpdate,
    FileTooLarge,
    Forbidden,
    HubError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    UnsupportedFile,
)

logger = logging.getLogger(__name__)

STATUS: dict[type[HubError], int] = {
    NotFound: 404, Forbidden: 403, IllegalTransition: 409, ConcurrentUpdate: 409, InvalidInput: 400,
    ServiceUnavailable: 503, FileTooLarge: 413, UnsupportedFile: 415,
}


ERROR_CLASSES: dict[int, type[web.HTTPException]] = {
    klass.status_code: klass
    for klass in (web.HTTPBadRequest, web.HTTPUnauthorized, web.HTTPForbidden, web.HTTPNotFound,
                  web.HTTPConflict, web.HTTPUnsupportedMediaType,
                  web.HTTPTooManyRequests, web.HTTPInternalServerError, web.HTTPServiceUnavailable)
}


def api_error(status: int, code: str, message: str) -> web.HTTPException:
    body = json.dumps({"error": {"code": code, "message": message}})
    if status == 413:  # its constructor wants the sizes; the message already says them
        return web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, text=body, content_type="application/json")
    return ERROR_CLASSES.get(status, web.HTTPInternalServerError)(text=body, content_type="application/json")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors become their 4xx; anything unexpected a logged 500 — the process keeps serving."""
    try:
        return await handler(request)
    except HubError as err:
        raise api_error(STATUS.get(type(err), 400), err.code, str(err)) from None
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("console.request.failed path=%s", printable(request.path))
        raise api_error(500, "internal", "internal error; it has been logged") from None
