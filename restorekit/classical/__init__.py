"""Classical restoration methods behind the Restorer protocol (see base.py).

The method modules load on the first ``get_method`` / ``list_methods`` call, and they import
scikit-image and bm3d only when a method runs.
"""

from restorekit.classical.base import ClassicalMethod, Restorer, get_method, list_methods, register_method

__all__ = ["ClassicalMethod", "Restorer", "get_method", "list_methods", "register_method"]
