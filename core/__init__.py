"""The ground floor: configuration, durations, offer types and secret redaction.

Every other package may import ``core``; ``core`` imports none of them (see
``tests/test_import_order.py``).
"""
