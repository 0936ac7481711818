"""Where to go after an action (`next`): a path on this site, never another origin.

One check for every redirect that takes its target from the request: the login, the language
switch, the personal link, the organiser's forms. The Referer header is never used for it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2048
MAX_DECODING = 3  # a proxy may decode once more; no honest link is encoded three times over


def safe_next(target: object) -> str | None:
    """`target` when it is a path on this site ("/live/3", "/admin/...?page=2"), else None.

    Browsers read a backslash as a slash and drop tabs and line breaks inside a URL, so
    "/\\evil.example" and "/\\t/evil.example" lead to another site as "//evil.example" does.
    Each percent-decoding of the target must pass the same test, so that "/%2F%2Fevil.example"
    is refused too.
    """
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    candidate = target
    for _ in range(MAX_DECODING):
        if not _is_local_path(candidate):
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            return target
        candidate = decoded
    return None


def _is_local_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return False
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc
