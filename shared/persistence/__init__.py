"""The persistence kit every service uses: one way to keep state in KV.

- `versioned`: `Versioned[R]`, the `VersionedStore` port and its one `ConflictError`.
- `kv_store`: that port on a NATS KV bucket (checked gets, create / update by revision).
- `memory`: the same port in memory, behaving like KV on conflicts (handler tests).
- `transact`: read -> decide -> compare-and-set, again on a lost race, a bounded number of times.
- `outbox`: events staged in the same write as the state change, flushed, then retained.
- `ledger`: bounded memories of what was already handled.
"""
