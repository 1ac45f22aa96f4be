"""Each person's Home index, in KV `slack_messages` under `home.<digest>` (the notifier's
own bucket), read and changed by compare-and-set through the shared persistence kit."""

from __future__ import annotations

from nats.js import JetStreamContext

from services.notifier.adapters.store import WRITE_PATIENCE_SECONDS
from services.notifier.domain.home_index import HOME_KEY_PREFIX, HomeIndex, home_key
from shared.contracts.subjects import Bucket
from shared.persistence.kv_store import KvStore
from shared.persistence.ledger import RecentKeys
from shared.persistence.transact import UNREAD, Decision, transact
from shared.persistence.versioned import Versioned, VersionedStore, model_codec

CODEC = model_codec(HomeIndex, lambda index: index.key)
# Whether a person's Home was published, as last read or written here: an event about a
# request already in their index then costs no read. Another replica's first publish for
# someone is seen here once the entry expires (a change within that time is shown at the
# next change or opening).
PUBLISHED_CACHE_SECONDS = 10.0
PUBLISHED_CACHE_SIZE = 10_000
# Each index as last read or written here, for as long: adding a request to the index of
# someone seen recently is then one compare-and-set on that version, no read. A version
# another replica replaced fails the compare-and-set, which reads the index again (as any
# lost race does), so a stale entry costs a retry, never a lost request. Smaller than the
# published cache: an index holds up to MAX_HOME_REQUESTS ids (a few KB).
INDEX_CACHE_SIZE = 1_000


class HomeIndexStore:
    """Reads and extends the per-person indexes."""

    def __init__(self, indexes: VersionedStore[HomeIndex]) -> None:
        self.indexes = indexes
        self._published: RecentKeys[bool] = RecentKeys(
            ttl=PUBLISHED_CACHE_SECONDS, max_size=PUBLISHED_CACHE_SIZE
        )
        self._latest: RecentKeys[Versioned[HomeIndex]] = RecentKeys(
            ttl=PUBLISHED_CACHE_SECONDS, max_size=INDEX_CACHE_SIZE
        )

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
        key = home_key(email)
        found = await self.indexes.load(key)
        self._remember(key, found)
        return [] if found is None else list(found.record.request_ids)

    async def add(self, email: str, request_id: str) -> bool:
        """Add a request to the person's index (written only when new); True when their
        Home was published before, so it should be published again."""
        key = home_key(email)

        def decide(stored: Versioned[HomeIndex] | None) -> Decision[HomeIndex, bool]:
            index = stored.record if stored is not None else HomeIndex(key=key)
            return Decision(index.with_request(request_id), index.published)

        known = self._latest.pop(key)  # put back only once the write stands
        done = await transact(self.indexes, key, decide, current=UNREAD if known is None else known)
        self._remember(key, done.latest)
        self._published.add(email, done.outcome)
        return done.outcome

    async def published(self, email: str) -> bool:
        """Whether the person's Home was published before (read at most every 10 s)."""
        cached = self._published.get(email)
        if cached is not None:
            return cached
        found = await self.indexes.load(home_key(email))
        published = found is not None and found.record.published
        self._published.add(email, published)
        return published

    async def mark_published(self, email: str) -> list[str] | None:
        """Note that the person's Home was published (one write, the first time); the
        requests the index holds once noted, or None when it was noted before."""
        key = home_key(email)

        def decide(stored: Versioned[HomeIndex] | None) -> Decision[HomeIndex, None]:
            index = stored.record if stored is not None else HomeIndex(key=key)
            return Decision(index.as_published(), None)

        if self._published.get(email):
            return None  # written before (it never goes back)
        self._latest.pop(key)
        done = await transact(self.indexes, key, decide)
        self._remember(key, done.latest)
        self._published.add(email, value=True)
        return [] if done.latest is None else list(done.latest.record.request_ids)

    def _remember(self, key: str, latest: Versioned[HomeIndex] | None) -> None:
        if latest is not None:
            self._latest.add(key, latest)
