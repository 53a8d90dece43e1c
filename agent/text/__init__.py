"""Leaf text helpers shared by dialogue and compliance: number words and phrase-rule matching.

This package imports nothing else from `agent`, so `agent.dialogue` and `agent.compliance`
can both depend on it without depending on each other (tests/compliance/test_import_graph.py).
"""
