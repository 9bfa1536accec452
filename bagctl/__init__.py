"""bagctl: the user's side of bagemu (CLI, topology model, runtimes, bus, verifier).

It imports ``speakers``; ``speakers`` never imports it.
"""
