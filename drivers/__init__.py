"""Plug-ins for scale-agent: scales, outputs. Found by the core only through entry points."""
