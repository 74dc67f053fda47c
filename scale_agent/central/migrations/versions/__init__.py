"""The migrations, oldest first (0001_initial, ...)."""
