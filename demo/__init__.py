"""``python -m demo`` (``make demo``): every role of the product played against a running
``make run``, over the public HTTP API only, narrated one line per step.

Orders for the demo customer ACME go side by side through review, stock, production and the
simulated carrier, so that the same orders can be followed in the Temporal UI while they move.
"""
