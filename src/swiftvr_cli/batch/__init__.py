"""`swiftvr batch`: restore every video of a folder tree, idempotently, on one machine or many.

discover (what to do) -> shard (which part is ours) -> claims (lock + manifest:
is it done, is someone else on it) -> an engine (local: one process, one
model; ray: a pool of workers, long videos split into segments) -> report.
"""
