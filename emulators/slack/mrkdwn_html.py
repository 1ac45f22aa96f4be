"""Slack mrkdwn and text objects to inline HTML (pure: stdlib only).

Slack text arrives with `&`, `<` and `>` already escaped by the sender, so `<...>` is
always a control sequence (mention, channel, date, link) and the three entities are the
only ones decoded. Controls and code spans are rendered first and parked behind private
placeholders; the rest is HTML-escaped before `*bold*`/`_italic_`/`~strike~` are applied,
so formatting can only ever add fixed tags to already-escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulators.slack.html_safety import anchor, esc, safe_href
from emulators.slack.mrkdwn_dates import render_date

# Slack's own ceiling for a message's text; longer input is cut (and says so) so one
# hostile text cannot make rendering slow.
MAX_TEXT_CHARS = 40_000

_SLOT_OPEN, _SLOT_CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(f"{_SLOT_OPEN}(\\d+){_SLOT_CLOSE}")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
_PRE = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_CONTROL = re.compile(r"<([^<>\n]+)>")
# Slack links a bare URL in mrkdwn too; trailing punctuation stays text.
_BARE_URL = re.compile(r"(?<![\w/])https?://[^\s<>|\ue000\ue001]+")
_TRAILING = ".,;:!?)]"
_QUOTE = re.compile(r"^(?:&gt;|>) ?")
_EMOJI = re.compile(r":([a-z0-9_+-]{1,64}):")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![A-Za-z0-9_])_(?=\S)([^_\n]+?)(?<=\S)_(?![A-Za-z0-9_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)
# The emoji the product sends plus a few common ones; any other `:name:` stays as text.
EMOJI = {
    "arrow_double_up": "\u23eb", "ballot_box_with_check": "\u2611\ufe0f",
    "bell": "\U0001f514", "clock3": "\U0001f552",
    "gear": "\u2699\ufe0f",
    "heavy_multiplication_x": "\u2716\ufe0f", "hourglass": "\u231b",
    "hourglass_flowing_sand": "\u23f3", "inbox_tray": "\U0001f4e5", "lock": "\U0001f512",
    "no_entry": "\u26d4", "no_entry_sign": "\U0001f6ab", "rotating_light": "\U0001f6a8",
    "unlock": "\U0001f513", "warning": "\u26a0\ufe0f", "white_check_mark": "\u2705",
    "x": "\u274c", "tada": "\U0001f389", "eyes": "\U0001f440", "key": "\U0001f511",
    "+1": "\U0001f44d", "thumbsup": "\U0001f44d", "information_source": "\u2139\ufe0f",
}  # fmt: skip


@dataclass(frozen=True)
class Directory:
    """What a viewer knows: names for ids, their time zone and (optionally) the time now.

    `now` only feeds Slack's relative date tokens ({ago}, "Today"); without it they are
    shown as absolute dates, which keeps rendering deterministic.
    """

    users: Mapping[str, str]
    channels: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)  # user group id -> handle
    tz: str = "UTC"
    now: datetime | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise ValueError(f"unknown time zone: {self.tz!r}") from error

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


def decode(text: str) -> str:
    """Undo Slack's own escaping (only &amp; &lt; &gt; are entities in Slack text)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m[1]], text)


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, int]:
    """(text cut to `limit`, number of characters cut)."""
    return text[:limit], max(0, len(text) - limit)


def emoji(escaped: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m[1], m[0]), escaped)


def render_plain(text: str, *, with_emoji: bool = True) -> str:
    """A plain_text string as HTML: escaped, line breaks kept, `:emoji:` shortcodes shown."""
    text, cut = clip(text)
    html = esc(text)
    html = emoji(html) if with_emoji else html
    return html.replace("\n", "<br>") + _cut_note(cut)


def render_text(obj: Any, directory: Directory) -> str:
    """A Block Kit text object (plain_text or mrkdwn) as inline HTML; anything else as ''."""
    if isinstance(obj, str):
        return render_plain(obj)
    if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
        return ""
    if obj.get("type") == "mrkdwn":
        return render_mrkdwn(obj["text"], directory)
    return render_plain(obj["text"], with_emoji=obj.get("emoji", True) is not False)


def plain_string(obj: Any) -> str:
    """The raw words of a text object (for attributes such as aria-label and confirm)."""
    if isinstance(obj, Mapping) and isinstance(obj.get("text"), str):
        text = clip(obj["text"])[0]
        return decode(text) if obj.get("type") == "mrkdwn" else text
    return ""


def render_mrkdwn(text: str, directory: Directory) -> str:
    """Slack mrkdwn as inline HTML (every character of `text` escaped or formatted)."""
    text, cut = clip(text)
    text = text.replace(_SLOT_OPEN, "").replace(_SLOT_CLOSE, "")
    parts: list[str] = []
    position = 0
    for match in _PRE.finditer(text):
        parts.append(_render_lines(text[position : match.start()], directory))
        parts.append(f'<pre class="bk-pre">{esc(decode(match[1]))}</pre>')
        position = match.end()
    parts.append(_render_lines(text[position:], directory))
    return "".join(parts) + _cut_note(cut)


def _cut_note(cut: int) -> str:
    return f'<span class="bk-truncated">… {cut} more characters not shown</span>' if cut else ""


def _render_lines(text: str, directory: Directory) -> str:
    """Lines joined by <br>; runs of `> ` lines become one blockquote."""
    out: list[str] = []
    quoted: list[str] = []
    plain: list[str] = []

    def flush_plain() -> None:
        if plain:
            out.append("<br>".join(plain))
            plain.clear()

    def flush_quoted() -> None:
        if quoted:
            out.append(f'<blockquote class="bk-quote">{"<br>".join(quoted)}</blockquote>')
            quoted.clear()

    for line in text.split("\n") if text else []:
        quote = _QUOTE.match(line)
        if quote:
            flush_plain()
            quoted.append(_render_inline(line[quote.end() :], directory))
        else:
            flush_quoted()
            plain.append(_render_inline(line, directory))
    flush_plain()
    flush_quoted()
    return "".join(out)


def _render_inline(line: str, directory: Directory) -> str:
    slots: list[str] = []

    def park(html: str) -> str:
        slots.append(html)
        return f"{_SLOT_OPEN}{len(slots) - 1}{_SLOT_CLOSE}"

    line = _CODE.sub(lambda m: park(f'<code class="bk-code">{esc(decode(m[1]))}</code>'), line)
    line = _CONTROL.sub(lambda m: park(_render_control(m[1], m[0], directory)), line)
    line = _BARE_URL.sub(lambda m: _link_bare(m[0], park), line)
    html = emoji(esc(decode(line)))
    for pattern, tag in _STYLES:
        html = pattern.sub(_wrapper(tag), html)
    return _SLOT.sub(lambda m: slots[int(m[1])], html)


def _link_bare(url: str, park: Callable[[str], str]) -> str:
    """A bare URL as a parked link; punctuation that ends the sentence stays text."""
    kept = url.rstrip(_TRAILING)
    if kept.endswith(("://", ":/")):
        return url
    return park(anchor(decode(kept), esc(decode(kept)))) + url[len(kept) :]


def _wrapper(tag: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f"<{tag}>{m[1]}</{tag}>"


def _render_control(body: str, original: str, directory: Directory) -> str:
    """One `<...>` control: mention, channel, special (date, here, subteam) or link."""
    target, _, label = body.partition("|")
    if target.startswith("@"):
        name = directory.users.get(target[1:]) or decode(label) or target[1:]
        return f'<span class="bk-mention" data-user-id="{esc(target[1:])}">@{esc(name)}</span>'
    if target.startswith("#"):
        name = directory.channels.get(target[1:]) or decode(label) or target[1:]
        return f'<span class="bk-channel" data-channel-id="{esc(target[1:])}">#{esc(name)}</span>'
    if target.startswith("!"):
        return _render_special(target[1:], decode(label), directory)
    href = safe_href(decode(target))
    if href is None:
        return esc(decode(label or original))
    return anchor(href, esc(decode(label) or href))


def _render_special(command: str, label: str, directory: Directory) -> str:
    name, _, argument = command.partition("^")
    if name == "date":
        return render_date(argument, label, directory.zone, directory.now)
    if name in {"here", "channel", "everyone"}:
        return f'<span class="bk-mention">@{esc(name)}</span>'
    if name == "subteam":
        # Slack shows a group mention as @handle (the label is only a fallback).
        handle = directory.groups.get(argument)
        shown = f"@{handle}" if handle else label or "@" + argument
        return f'<span class="bk-mention">{esc(shown)}</span>'
    return esc(label or f"<!{command}>")
