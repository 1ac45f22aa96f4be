"""The emulated workspace: users, channels, user groups and the bot's own identity."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulators.slack.ids import IdFactory

_FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun",
    "Kofi", "Lena", "Marta", "Nils", "Oona", "Pavel", "Quinn", "Rosa", "Sami", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Adler", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Sato",
    "Tanaka", "Varga", "Weber", "Yilmaz", "Zhang",
)  # fmt: skip
_TIMEZONES = (
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Berlin", "Central European Time", 3600),
    ("America/New_York", "Eastern Standard Time", -18000),
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
)


@dataclass
class User:
    """A workspace member as `users.info` describes them."""

    id: str
    name: str
    real_name: str = ""
    email: str = ""
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False
    is_restricted: bool = False  # a multi-channel guest
    is_ultra_restricted: bool = False  # a single-channel guest
    has_2fa: bool = False
    tz: str = "Europe/London"
    tz_label: str = "Greenwich Mean Time"
    tz_offset: int = 0
    title: str = ""
    bot_id: str = ""  # bot users only
    app_id: str = ""  # bot users only

    def to_api(self, team_id: str) -> dict[str, Any]:
        """The `user` object of users.info / users.lookupByEmail."""
        real_name = self.real_name or self.name
        profile: dict[str, Any] = {
            "title": self.title,
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": team_id,
        }
        if self.is_bot:
            # A bot user's profile has no email; it names its bot and app instead.
            profile.update(bot_id=self.bot_id, api_app_id=self.app_id, always_active=True)
        else:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "has_2fa": self.has_2fa,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation. `members=None` means every workspace user is in it."""

    id: str
    name: str
    is_private: bool = False
    bot_is_member: bool = True
    is_archived: bool = False
    members: list[str] | None = None
    is_im: bool = False
    im_user: str | None = None

    def has_member(self, user_id: str) -> bool:
        if self.is_im:
            return user_id == self.im_user
        return self.members is None or user_id in self.members


@dataclass
class Usergroup:
    """A user group (`subteam`) as `usergroups.list` describes it."""

    id: str
    handle: str
    users: list[str] = field(default_factory=list)
    name: str = ""
    description: str = ""
    disabled: bool = False  # `date_delete` set: usergroups.disable was called

    def to_api(self, team_id: str, *, include_users: bool, include_count: bool) -> dict[str, Any]:
        """The usergroup object of usergroups.list (`users` and `user_count` only when asked)."""
        body: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name or self.handle,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": 1_700_000_000,
            "date_update": 1_700_000_000,
            "date_delete": 1_700_000_500 if self.disabled else 0,
            "auto_type": None,
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": "USLACKBOT" if self.disabled else None,
            "prefs": {"channels": [], "groups": []},
        }
        if include_users:
            body["users"] = list(self.users)
        if include_count:
            body["user_count"] = str(len(self.users))
        return body


class Workspace:
    """Seedable, deterministic fake workspace; explicit additions override seeded data."""

    def __init__(
        self,
        *,
        team_id: str = "T0EMULATOR",
        team_domain: str = "accessbot-emulated",
        team_name: str = "Accessbot Emulated",
        bot_user_id: str = "U0ACCESSBOT",
        bot_id: str = "B0ACCESSBOT",
        bot_name: str = "accessbot",
        app_id: str = "A0ACCESSBOT",
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}

    # -- building ---------------------------------------------------------

    @classmethod
    def seeded(
        cls,
        seed: int = 1,
        users: int = 20,
        channels: Iterable[str] = ("general", "random"),
    ) -> Workspace:
        """`users` people with unique names and emails, plus public channels, all from `seed`."""
        ws = cls()
        rng = random.Random(seed)
        ids = IdFactory(seed)
        taken: set[str] = set()
        for _ in range(users):
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            handle = f"{first}.{last}".lower()
            suffix = 2
            while handle in taken:
                handle = f"{first}.{last}{suffix}".lower()
                suffix += 1
            taken.add(handle)
            tz, tz_label, tz_offset = rng.choice(_TIMEZONES)
            ws.add_user(
                User(
                    id=ids.slack_id("U"),
                    name=handle,
                    real_name=f"{first} {last}",
                    email=f"{handle}@example.com",
                    tz=tz,
                    tz_label=tz_label,
                    tz_offset=tz_offset,
                )
            )
        for name in channels:
            ws.add_channel(Channel(id=ids.slack_id("C"), name=name))
        return ws

    @classmethod
    def from_file(cls, path: str | Path) -> Workspace:
        ws = cls()
        ws.load_file(path)
        return ws

    def load_file(self, path: str | Path) -> None:
        """Merge a JSON or YAML file `{users: [...], channels: [...], usergroups: [...]}`."""
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a mapping with users/channels/usergroups")
        self.load(data)

    def load(self, data: Mapping[str, Any]) -> None:
        for key in ("team_id", "team_domain", "team_name", "bot_user_id", "bot_id", "app_id"):
            if key in data:
                setattr(self, key, str(data[key]))
        for user in data.get("users", []):
            self.add_user(User(**user))
        for channel in data.get("channels", []):
            self.add_channel(Channel(**channel))
        for group in data.get("usergroups", []):
            self.add_usergroup(**group)

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def add_channel(self, channel: Channel) -> Channel:
        self.channels[channel.id] = channel
        return channel

    def add_usergroup(
        self,
        id: str,  # noqa: A002 - Slack's field name, and the documented keyword
        handle: str,
        users: Iterable[str],
        name: str = "",
        *,
        description: str = "",
        disabled: bool = False,
    ) -> Usergroup:
        group = Usergroup(
            id=id,
            handle=handle,
            users=list(users),
            name=name or handle,
            description=description,
            disabled=disabled,
        )
        self.usergroups[id] = group
        return group

    # -- lookups ----------------------------------------------------------

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def bot_user(self) -> User:
        """The app's bot user (not a person: kept out of `users`)."""
        return User(
            id=self.bot_user_id,
            name=self.bot_name,
            real_name=self.bot_name,
            is_bot=True,
            tz="America/Los_Angeles",
            tz_label="Pacific Standard Time",
            tz_offset=-28800,
            bot_id=self.bot_id,
            app_id=self.app_id,
        )

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        for user in self.users.values():
            if user.email.lower() == wanted:
                return user
        return None

    def channel_by_name(self, name: str) -> Channel | None:
        wanted = name.lstrip("#")
        for channel in self.channels.values():
            if channel.name == wanted and not channel.is_im:
                return channel
        return None

    def dm_channel_id(self, user_id: str) -> str:
        """A stable D-id per (team, user), the same across runs, like Slack's."""
        digest = hashlib.sha256(f"{self.team_id}:{user_id}".encode()).hexdigest()
        return "D" + digest[:10].upper()

    def open_dm(self, user_id: str) -> Channel:
        channel_id = self.dm_channel_id(user_id)
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = self.add_channel(
                Channel(id=channel_id, name=user_id, is_private=True, is_im=True, im_user=user_id)
            )
        return channel

    def user_ref(self, user_id: str) -> dict[str, str]:
        """The `user` object interactivity payloads carry."""
        user = self.users.get(user_id)
        name = user.name if user else user_id
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def team_ref(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}
