"""The costs the tests seal keys at: argon2id at a millisecond, not a fifth of a second.

Every user of a test world has a key file, and signing with it unlocks it, so at the
costs keys are sealed at for real (``core.signing.KDF``) deriving keys took a fifth
of the processor time of some files. ``tests/conftest.py`` lowers ``KDF`` to ``TESTS``
for the whole run, before any world is made, as a web framework's test settings choose
a fast password hasher: the same code seals and unlocks, at a smaller cost. The tests of
the costs themselves, of new key pairs and of resealing ask for ``real_key_costs``.
A ``clearance`` command run as a process of its own is not lowered: it unlocks at the
real costs, and reseals a test's key it finds sealed at lower ones, as it would anyone's.
"""

from __future__ import annotations

from clearance.core import signing
from clearance.core.signing import KdfCost

REAL = signing.KDF
"""The costs keys are sealed at, read before the tests lower them."""

TESTS = KdfCost(time_cost=1, memory_kib=1024, parallelism=1)
