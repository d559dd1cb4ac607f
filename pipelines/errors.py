"""The pipelines' exceptions (the tree is drawn in `pipelines/__init__.py`).

Foreign exceptions (duckdb.Error, OSError, pyarrow's) are translated where they happen, into one
of these, with a message of one line that names the file or the table.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Anything the pipelines refuse or cannot do; the message is one line."""


class WarehouseError(PipelineError):
    """The warehouse cannot be opened, read or written (locked by another process, corrupt, no space)."""


class RawStoreError(PipelineError):
    """The raw store is missing, or a manifest or file in it cannot be read."""


class ModelError(PipelineError):
    """A SQL model failed or the models' dependencies do not form an order."""


class CheckFailed(PipelineError):
    """Invariants that do not hold; `failures` names the offending rows."""

    def __init__(self, failures: list[object]) -> None:
        self.failures = failures
        names = ", ".join(sorted({getattr(f, "name", str(f)) for f in failures}))
        super().__init__(f"{len(failures)} check(s) failed: {names}")
