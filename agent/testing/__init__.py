"""Test doubles for the call loop: scripted engines, a recording output and store, a harness.

Used by the project's tests and by other engineers' tests (socket, transport, policy); the
fakes implement the same ports as the real engines (agent/call/ports.py) and run in
virtual time under `looptime` (no threads, no sleeps in real time).
"""
