"""The station: its pure state machine (`logic`), the scan desk, evidence, and the runtime.

The runtime wires the state machine to the I/O layer; the state machine itself stays pure.
"""
