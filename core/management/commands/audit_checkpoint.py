from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.checkpoints import audit_checkpoint_write, new_private_key_text, public_key_text, witness_dir


class Command(BaseCommand):
    help = (
        "Signs the audit chain's head (its last entry's number and hash, and the time) with the Ed25519 key of "
        "AUDIT_CHECKPOINT_KEY and writes it to the witness directory (AUDIT_WITNESS_DIR) as a new file that is "
        "never rewritten. Scheduled every AUDIT_CHECKPOINT_INTERVAL seconds, also when nothing happened: "
        "verify_audit_log reports a chain shorter than a checkpoint, another head, or a gap in the schedule. "
        "Refuses, with exit status 1, when the chain no longer holds the previous checkpoint. --public-key "
        "prints the key auditors verify with; --new-key prints a fresh private key for AUDIT_CHECKPOINT_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--public-key", action="store_true", help="Print the public key (base64) and exit.")
        parser.add_argument("--new-key", action="store_true", help="Print a new private key (base64) and exit.")

    def handle(self, *args: Any, public_key: bool, new_key: bool, **options: Any) -> None:
        if new_key:
            self.stdout.write(new_private_key_text())
            return
        if public_key:
            self.stdout.write(public_key_text())
            return
        try:
            checkpoint = audit_checkpoint_write()
        except ValueError as exc:
            raise CommandError(f"Audit chain {exc}.") from exc
        except OSError as exc:
            raise CommandError(f"AUDIT_WITNESS_DIR: cannot write to {witness_dir()}: {exc.strerror}.") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Checkpoint of entry {checkpoint.seq} written to {witness_dir() / checkpoint.name}.")
        )
