"""What Slack can show: Block Kit's text and count limits, and fitting text into them (pure).

Every builder (notifier messages, intake modals and options) takes its limits from
here, so one number is never written twice. User-typed text (reasons, names, error
messages from elsewhere) is escaped for mrkdwn first and clipped after, because
escaping grows it (`&` becomes `&amp;`); a clip never cuts an escape entity or a
`<...>` token (mention, date, link) in half, and ends with an ellipsis. The full
text stays in the event stream: only what Slack shows is shortened.

Sources: Slack's Block Kit reference (blocks, block elements, composition objects,
views) and slack_sdk's own model checks (`validate_json`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- text objects and blocks ----------------------------------------------------------
TEXT_OBJECT = 3000  # any text object ("section text", context elements)
SECTION_TEXT = 3000
SECTION_FIELD = 2000  # each item of a section's `fields`
SECTION_FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BLOCK_ID = 255
ACTION_ID = 255

# -- interactive elements and options ---------------------------------------------------
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTION_DESCRIPTION = 75
SELECT_OPTIONS = 100  # static_select options, and a block_suggestion answer
RADIO_OPTIONS = 10  # radio_buttons and checkboxes
PLACEHOLDER = 150
INPUT_LABEL = 2000
INPUT_HINT = 2000
PLAIN_TEXT_INPUT = 3000  # the most a plain_text_input's max_length may be

# -- surfaces ---------------------------------------------------------------------------
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
HOME_BLOCKS = 100
MODAL_TITLE = 24  # also the submit and close buttons
PRIVATE_METADATA = 3000
# A message's top-level `text` (notification and screen-reader fallback): Slack
# truncates past 40,000 and advises at most 4,000.
MESSAGE_TEXT = 4000

# -- Accessbot's own, derived from the above --------------------------------------------
MAX_REASON = PLAIN_TEXT_INPUT
"""The longest reason anyone may type (request, deny, revoke, extension): the form's
input holds at most this, intake and approvals refuse longer, the events say so."""
PEOPLE_TEXT = 1000
"""A list of people in one line ("waiting for a, b and 57 more") stays within this."""
NAME_TEXT = 200
"""One person's or device's name, escaped, as shown."""

ELLIPSIS = "…"
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
# What must not be cut: an escape entity, or a Slack token such as <@U123>, <!date^…|…>.
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; everything not written by us goes through this."""
    for char, entity in _ESCAPES:
        text = text.replace(char, entity)
    return text


def clip_plain(text: str, limit: int) -> str:
    """Plain text (option labels, placeholders) shortened to `limit` with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def clip_mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn shortened to `limit` with an ellipsis, never inside an entity or token."""
    if len(text) <= limit:
        return text
    cut = max(limit - 1, 0)
    for atom in _ATOM.finditer(text, 0, len(text)):
        if atom.start() >= cut:
            break
        if atom.end() > cut:  # the cut falls inside this atom: cut before it instead
            cut = atom.start()
            break
    return text[:cut] + ELLIPSIS


@dataclass(frozen=True, slots=True)
class Flexible:
    """A part of a line that may be shortened to fit (escaped mrkdwn), with fixed ends.

    `before` and `after` (e.g. quotation marks) are kept whole; only `text` is clipped.
    """

    text: str
    before: str = ""
    after: str = ""


Part = str | Flexible


def user_text(raw: str, before: str = "", after: str = "") -> Flexible:
    """Text someone typed (or another system wrote), escaped and ready to be clipped."""
    return Flexible(escape_mrkdwn(raw), before, after)


def fit(limit: int, *parts: Part) -> str:
    """Join `parts` into at most `limit` characters.

    Fixed parts (plain `str`, written by us) are kept; when the whole is too long the
    flexible parts share what room is left, the shortest keeping all of theirs first.
    A last clip of the whole guards against fixed parts that are themselves too long.
    """
    flexible = [p for p in parts if isinstance(p, Flexible)]
    fixed = sum(len(p) if isinstance(p, str) else len(p.before) + len(p.after) for p in parts)
    room = limit - fixed
    allowed: dict[int, int] = {}
    if sum(len(p.text) for p in flexible) > room:
        left, waiting = max(room, 0), len(flexible)
        for index in sorted(range(len(parts)), key=lambda i: _flex_len(parts[i])):
            part = parts[index]
            if not isinstance(part, Flexible):
                continue
            share = left // waiting
            allowed[index] = min(len(part.text), share)
            left -= allowed[index]
            waiting -= 1
    pieces: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, str):
            pieces.append(part)
            continue
        body = part.text
        if index in allowed and allowed[index] < len(body):
            body = clip_mrkdwn(body, max(allowed[index], 1))
        pieces.append(f"{part.before}{body}{part.after}")
    return clip_mrkdwn("".join(pieces), limit)


def _flex_len(part: Part) -> int:
    return len(part.text) if isinstance(part, Flexible) else -1


def listing(names: list[str], conjunction: str = "and", limit: int = PEOPLE_TEXT) -> str:
    """`a`, `a and b`, `a, b and c`; when too long, `a, b and 57 more` within `limit`.

    `names` are mrkdwn already (mentions or escaped names).
    """
    whole = _join(names, conjunction)
    if len(whole) <= limit:
        return whole
    shown, length = 0, 0
    for count, name in enumerate(names[:-1], start=1):
        length += len(name) + (2 if count > 1 else 0)  # ", " between names
        if length + len(f" {conjunction} {len(names) - count} more") > limit:
            break
        shown = count
    if shown == 0:
        return f"{len(names)} people"
    return f"{', '.join(names[:shown])} {conjunction} {len(names) - shown} more"


def _join(names: list[str], conjunction: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"
