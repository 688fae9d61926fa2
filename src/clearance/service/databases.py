"""The store's names a command needs to read a database that may not be there, given to the
interfaces (which import nothing from the store) without the rest of ``service.runtime``.

The runtime imports every service, the notification senders' HTTP client among them; a
command that only reads policy or cases from an existing database (``screen``, ``policy
diff``) would pay a tenth of a second of start-up for them (docs/benchmarks.md).
"""

from clearance.store.db import Database, existing_database
from clearance.store.repository import Store

__all__ = ["Database", "Store", "existing_database"]
