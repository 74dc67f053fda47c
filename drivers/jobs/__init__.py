"""Where orders come from: barcode scanners and a typing prompt.

Entry points: `scale_agent.scanners` (the old group `scale_agent.jobs` is still read).
"""
