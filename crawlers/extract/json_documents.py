"""Reading a JSON document from a seller: every failure is an :class:`ExtractError`.

Python's parser raises ``RecursionError`` (not a ``ValueError``) on arrays or objects nested a
few thousand levels deep; a hostile page of ``[[[[...]]]]`` must end as a clear listing error
("JSON nested too deep"), never as a traceback or a silently skipped page.
"""

from __future__ import annotations

import json
from typing import Any

from crawlers.items import ExtractError

NESTED_TOO_DEEP = "JSON nested too deep (more levels than any price list has)"


def load_json(body: bytes | str, *, what: str, **options: Any) -> Any:
    """``json.loads(body)``; :class:`ExtractError` naming ``what`` when it is not valid JSON or
    is nested too deep."""
    try:
        return json.loads(body, **options)
    except RecursionError:
        raise ExtractError(f"{what}: {NESTED_TOO_DEEP}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ExtractError(f"{what} is not valid JSON: {error}") from None
