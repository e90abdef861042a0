"""One verification of the audit log, for the command and the console alike: the chain, the sealed tables and
the signed checkpoints (core/audit.py, core/sealing.py, core/checkpoints.py), with the verdict in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.audit import Verification, verify_chain
from core.checkpoints import verify_checkpoints


@dataclass(frozen=True)
class Verdict:
    """What one verification found: ``problems`` (each a sentence; none when intact) and a ``summary`` of the counts."""

    result: Verification
    unanchored: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every kind of problem at once: a cut chain may also have rewritten rows."""
        result, lines = self.result, []
        if result.chain_problem:
            lines.append(f"Audit chain broken after {result.verified} intact entries: {result.chain_problem}.")
        if result.sealed_problems:
            more = f"; and {result.unreported} more" if result.unreported else ""
            lines.append(f"Sealed tables changed outside the product: {'; '.join(result.sealed_problems)}{more}.")
        if self.unanchored:
            lines.append("Audit chain not anchored: " + "; ".join(self.unanchored) + ".")
        return lines

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        result = self.result
        redacted = sum(result.redacted_by_request.values())
        by_request = ", ".join(f"request {request}: {count}" for request, count in sorted(result.redacted_by_request.items()))
        return (
            f"Audit chain intact: {result.verified} entries verified ({result.verified - result.seals} "
            f"operations, {result.seals} seals); {redacted} redacted by erasure"
            + (f" ({by_request})." if by_request else ".")
            + f" Sealed tables intact: {result.sealed_rows} rows of {result.sealed_tables} tables match their seals."
        )


def audit_log_verify(*, batch_size: int = 2000, progress: Any = None, seal_progress: Any = None) -> Verdict:
    """Verify the chain and every sealed table (:func:`core.audit.verify_chain`), then hold the chain to every
    signed checkpoint (:func:`core.checkpoints.verify_checkpoints`). Reads in batches; writes nothing."""
    result = verify_chain(batch_size=batch_size, progress=progress, seal_progress=seal_progress)
    return Verdict(result=result, unanchored=verify_checkpoints())
