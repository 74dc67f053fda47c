"""Where orders come from: barcode scanners and a typing prompt (entry points: scale_agent.jobs)."""
