"""The embedded local stack: moto server, local API server, event-source runner, SQLite index."""
