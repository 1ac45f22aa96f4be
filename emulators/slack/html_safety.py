"""The few HTML-safety rules every Block Kit renderer shares (pure: stdlib only)."""

from __future__ import annotations

from html import escape

SAFE_SCHEMES = ("http://", "https://", "mailto:")


def esc(text: str) -> str:
    """HTML-escape text for element content and (double-quoted) attribute values."""
    return escape(text, quote=True)


def safe_href(url: str) -> str | None:
    """The URL if a browser may follow it (http, https, mailto), else None: never javascript:."""
    stripped = url.strip()
    return stripped if stripped.lower().startswith(SAFE_SCHEMES) else None


def safe_image_src(url: str) -> str | None:
    """The URL if a browser may load it as an image (http, https only), else None."""
    href = safe_href(url)
    return href if href and not href.lower().startswith("mailto:") else None


def anchor(href: str, inner_html: str) -> str:
    """A link that opens outside the console; `href` must come from safe_href."""
    opens = f'<a class="bk-link" href="{esc(href)}" target="_blank" rel="noopener noreferrer">'
    return f"{opens}{inner_html}</a>"
