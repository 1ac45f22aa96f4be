"""KV `slack_messages`: one record per request, through the shared persistence kit.

A request nothing was posted about yet reads as a new empty record (revision None);
every change is applied by compare-and-set, re-read and re-applied on a lost race.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.js import JetStreamContext

from services.notifier.domain.home_index import HOME_KEY_PREFIX
from services.notifier.domain.record import NotifierRecord
from services.notifier.ports import ReadRecord
from shared.contracts.subjects import Bucket
from shared.persistence import versioned
from shared.persistence.kv_store import KvStore
from shared.persistence.transact import Decision, transact
from shared.persistence.versioned import VersionedStore, model_codec

# A record is written right after a Slack post, which cannot be taken back: if the write
# failed while the bucket's stream elects a leader (a cluster node lost, several seconds),
# the redelivered event would post the message again. So a write nobody answered is
# sent again for this long first.
WRITE_PATIENCE_SECONDS = 15.0
# Defaults left out: most of a record is empty most of the time.
CODEC = model_codec(NotifierRecord, lambda record: record.view.request_id, exclude_defaults=True)


class RecordStore:
    """Reads and writes notifier records in the bucket it is given."""

    def __init__(self, records: VersionedStore[NotifierRecord]) -> None:
        self.records = records

    @classmethod
    async def open(cls, js: JetStreamContext) -> RecordStore:
        """The store on the `slack_messages` bucket (provisioning created it)."""
        bucket = await js.key_value(Bucket.SLACK_MESSAGES.value)
        return cls(
            KvStore(
                bucket,
                CODEC,
                # the Home indexes share the bucket (adapters.home_index): not records
                include=lambda key: not key.startswith(HOME_KEY_PREFIX),
                patience=WRITE_PATIENCE_SECONDS,
            )
        )

    async def load(self, request_id: str) -> ReadRecord:
        """The stored record, or a new empty one (ForgedEntryError: forged)."""
        found = await self.records.load(request_id)
        if found is None:
            return ReadRecord(request_id, NotifierRecord.new(request_id), None)
        return ReadRecord(request_id, found.record, found.revision)

    async def change(
        self, current: ReadRecord, change: Callable[[NotifierRecord], NotifierRecord]
    ) -> ReadRecord:
        """Apply `change` and store it at the revision read; on conflict re-read and re-apply.

        `change` must be safe to apply to a newer record (set a ref, mark an event).
        """
        read = (
            None
            if current.revision is None
            else versioned.Versioned(current.request_id, current.record, current.revision)
        )

        def decide(
            stored: versioned.Versioned[NotifierRecord] | None,
        ) -> Decision[NotifierRecord, None]:
            record = stored.record if stored is not None else NotifierRecord.new(current.request_id)
            return Decision(change(record), None)

        done = await transact(self.records, current.request_id, decide, current=read)
        latest = done.latest
        if latest is None:  # not stored, and nothing to store: the record as it reads
            return current
        return ReadRecord(current.request_id, latest.record, latest.revision)
