"""scale-agent: weigh-before-seal verification for warehouse packing stations."""

__version__ = "0.1.0"
