"""Controllers and the machinery they share: informers, work queues, event recording.

Every controller is level-triggered: informers keep an in-memory copy of what the store
holds and call handlers that only put `namespace/name` keys on a work queue; `sync(key)`
re-reads the cache, compares desired with actual, and writes through the resource service
(the same write path as HTTP requests). A failed sync is retried with backoff.
"""
