"""bagemu's protocol and routing library: it knows nothing of topologies or CLIs.

``speakers.wire`` is the BGP codec. The session state machine, transport, RIB and FIB
build on it.
"""
