"""The storage library's failures, named once, so code outside ``hub/storage`` never imports it."""

from __future__ import annotations

from pymongo.errors import PyMongoError

# Every failure of the MongoDB driver: the database unreachable, a timeout, a refused write.
STORAGE_ERRORS: tuple[type[Exception], ...] = (PyMongoError,)
