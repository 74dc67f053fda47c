"""The `scale-agent` command line and its tools: records, decode/read/probe, monitor, demo."""
