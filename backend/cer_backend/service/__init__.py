"""Services of the backend: storage logic under the HTTP API and the commands."""
