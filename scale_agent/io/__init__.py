"""Threads, files and devices: config files, device links, the ledger and outbox, MQTT.

The only layer that touches the outside world (besides the drivers). It may import the pure
rules in `scale_agent.domain`, never the station or the tools above it.
"""
