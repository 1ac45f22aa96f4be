"""OAuth clients, the access tokens they mint, and scope checks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

TOKEN_PREFIX = "tskey-api-"  # noqa: S105 - a public format prefix, not a secret


class AuthError(Exception):
    """Authentication or authorization failed; `status` is 401 or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class OAuthClient:
    """A registered OAuth client, as created in the admin console."""

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Token:
    """An access token and what it may do."""

    value: str = field(repr=False)
    client_id: str
    scopes: tuple[str, ...]
    tags: tuple[str, ...]
    expires_at: datetime


def covers(granted: str, wanted: str) -> bool:
    """Whether scope `granted` includes `wanted` (`x` includes `x:read`; `all` everything)."""
    if granted in (wanted, "all"):
        return True
    if granted == "all:read":
        return wanted.endswith(":read")
    return wanted == f"{granted}:read"


class TokenIssuer:
    """Checks client credentials, mints tokens, and resolves bearer tokens."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._clients: dict[str, OAuthClient] = {}
        self._tokens: dict[str, Token] = {}

    def add_client(self, client: OAuthClient) -> None:
        """Register a client; like the admin console, `devices:core` requires tags."""
        if "devices:core" in client.scopes and not client.tags:
            raise ValueError("an OAuth client with the devices:core scope must be given tags")
        self._clients[client.client_id] = client

    def issue(
        self,
        client_id: str,
        client_secret: str,
        scope: str | None,
        tags: str | None,
        now: datetime,
    ) -> Token:
        """Mint a token, narrowed to `scope`/`tags` when given."""
        client = self._clients.get(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, client_secret):
            raise AuthError(401, "invalid client credentials")
        scopes = tuple(scope.split()) if scope else client.scopes
        missing = [s for s in scopes if not any(covers(g, s) for g in client.scopes)]
        if missing:
            raise AuthError(403, f"OAuth client lacks the requested scopes: {' '.join(missing)}")
        wanted_tags = tuple(tags.replace(",", " ").split()) if tags else client.tags
        foreign = [t for t in wanted_tags if t not in client.tags]
        if foreign:
            raise AuthError(403, f"OAuth client may not use the tags: {' '.join(foreign)}")
        # Forget expired tokens so a long-running emulator does not grow without bound.
        self._tokens = {v: t for v, t in self._tokens.items() if t.expires_at > now}
        value = f"{TOKEN_PREFIX}k{secrets.token_hex(6)}CNTRL-{secrets.token_hex(16)}"
        token = Token(value, client_id, scopes, wanted_tags, now + timedelta(seconds=self.ttl))
        self._tokens[value] = token
        return token

    def authorize(self, header: str | None, scope: str, now: datetime) -> Token:
        """Resolve an `Authorization: Bearer` header and check it grants `scope`."""
        if not header or not header.startswith("Bearer "):
            raise AuthError(401, "missing or malformed Authorization header; expected Bearer token")
        token = self._tokens.get(header.removeprefix("Bearer ").strip())
        if token is None:
            raise AuthError(401, "API token invalid")
        if now >= token.expires_at:
            raise AuthError(401, "API token expired")
        if not any(covers(g, scope) for g in token.scopes):
            raise AuthError(
                403, f"calling actor does not have enough permissions: needs scope {scope}"
            )
        return token

    def revoke_all(self) -> None:
        """Invalidate every token issued so far (clients must fetch new ones)."""
        self._tokens.clear()
