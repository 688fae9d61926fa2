"""clearance: a review mechanism for controlled weapon systems.

It works out whose consent a request needs, judges it by each holder's policy
in force on the request's date, and says who must approve and why.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
