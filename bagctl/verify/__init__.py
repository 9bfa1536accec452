"""``bagctl verify``'s package: is the FIB's traffic split what the topology calls for?

``verify_region`` (``verification.py``) is the one entry point: plain data and
``VerifyOptions`` in, one ``Verification`` out. The modules behind it each do one job:
``model.py`` (routes and ideal splits from the topology alone), ``traffic.py`` (the
matrix), ``check.py``/``report.py`` (weights and loads), ``flows.py`` (hashed flows),
``transients.py`` (the last operation's transients), ``plot/`` (pictures).
"""

from .verification import Verification, VerifyOptions, verify_region

__all__ = ["Verification", "VerifyOptions", "verify_region"]
