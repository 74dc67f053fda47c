"""The per-order report customer service attaches to a dispute: facts, plot, PDF and HTML."""
