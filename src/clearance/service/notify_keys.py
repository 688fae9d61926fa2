"""Secrets derived from the system key for notifications: the seal of each outbox row, and
each webhook subscription's signing key. None is stored."""

from __future__ import annotations

import base64
import hashlib
import hmac

from clearance.core.digest import canonical_json
from clearance.errors import StoreError
from clearance.store.notifications import DeliveryRecord
from clearance.store.repository import Store

__all__ = ["NotifyKeys"]


class NotifyKeys:
    """Secrets derived from the system key, as sessions' are (``service.accounts``): one
    seals outbox rows, one gives each webhook subscription its signing secret. Ed25519
    signatures are deterministic, so every process with the key derives the same secrets,
    and nobody without it can; none is stored."""

    _SEAL = b"clearance.outbox-seal/1"
    _WEBHOOK = b"clearance.webhook-secret/1"

    def __init__(self, store: Store) -> None:
        self._store = store
        self._keys: dict[bytes, bytes] = {}

    def _key(self, purpose: bytes) -> bytes:
        if purpose not in self._keys:
            sealer = self._store.sealer
            if sealer is None:
                raise StoreError("there is no system key to seal notifications with")
            self._keys[purpose] = hashlib.sha256(sealer.sign(purpose).encode("ascii")).digest()
        return self._keys[purpose]

    def seal(self, row: DeliveryRecord) -> str:
        """The HMAC over everything a row says (its delivery id, what it tells, to whom)."""
        said = [
            row.id,
            row.subscription_id,
            row.event_seq,
            row.kind,
            row.case_id,
            row.case_number,
            row.about,
            row.path,
            row.channel,
            row.address,
        ]
        mac = hmac.new(self._key(self._SEAL), canonical_json(said), hashlib.sha256)
        return "hmac-sha256:" + mac.hexdigest()

    def sealed(self, row: DeliveryRecord) -> bool:
        return hmac.compare_digest(self.seal(row).encode(), row.seal.encode("utf-8", "replace"))

    def webhook_secret(self, subscription_id: str) -> str:
        """The Standard Webhooks secret (``whsec_…``) a receiver verifies signatures with."""
        raw = hmac.new(self._key(self._WEBHOOK), subscription_id.encode(), hashlib.sha256)
        return "whsec_" + base64.b64encode(raw.digest()).decode("ascii")
