"""Each person's Home index, in KV `slack_messages` under `home.<digest>` (the notifier's
own bucket), read and changed by compare-and-set through the shared persistence kit."""

from __future__ import annotations

from nats.js import JetStreamContext

from services.notifier.adapters.store import WRITE_PATIENCE_SECONDS
from services.notifier.domain.home_index import HOME_KEY_PREFIX, HomeIndex, home_key
from shared.contracts.subjects import Bucket
from shared.persistence.kv_store import KvStore
from shared.persistence.transact import Decision, transact
from shared.persistence.versioned import Versioned, VersionedStore, model_codec

CODEC = model_codec(HomeIndex, lambda index: index.key)


class HomeIndexStore:
    """Reads and extends the per-person indexes."""

    def __init__(self, indexes: VersionedStore[HomeIndex]) -> None:
        self.indexes = indexes

    @classmethod
    async def open(cls, js: JetStreamContext) -> HomeIndexStore:
        """The store on the `slack_messages` bucket (provisioning created it)."""
        bucket = await js.key_value(Bucket.SLACK_MESSAGES.value)
        return cls(
            KvStore(
                bucket,
                CODEC,
                include=lambda key: key.startswith(HOME_KEY_PREFIX),  # not request records
                patience=WRITE_PATIENCE_SECONDS,
            )
        )

    async def request_ids(self, email: str) -> list[str]:
        """The requests the person's Home shows, oldest first."""
        found = await self.indexes.load(home_key(email))
        return [] if found is None else list(found.record.request_ids)

    async def add(self, email: str, request_id: str) -> bool:
        """Add a request to the person's index (written only when new); True when their
        Home was published before, so it should be published again."""
        key = home_key(email)

        def decide(stored: Versioned[HomeIndex] | None) -> Decision[HomeIndex, bool]:
            index = stored.record if stored is not None else HomeIndex(key=key)
            return Decision(index.with_request(request_id), index.published)

        return (await transact(self.indexes, key, decide)).outcome

    async def mark_published(self, email: str) -> None:
        """Note that the person's Home was published (one write, the first time)."""
        key = home_key(email)

        def decide(stored: Versioned[HomeIndex] | None) -> Decision[HomeIndex, None]:
            index = stored.record if stored is not None else HomeIndex(key=key)
            return Decision(index.as_published(), None)

        await transact(self.indexes, key, decide)
