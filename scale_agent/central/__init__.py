"""The central monitor: every station's messages in one database, for supervisors in a browser.

`scale-agent central run -c central.toml` subscribes to every station's contract topics with a
persistent MQTT v5 session (`io.mqtt.durable`), validates each message (`ingest`), stores it
once by `msg_id` (`store`, SQLAlchemy Core over SQLite or PostgreSQL, schema by Alembic
migrations in `migrations/`), and serves the dashboard and its JSON API (`web`). Users and
roles are in `auth`; the service's settings in `settings`.
"""
