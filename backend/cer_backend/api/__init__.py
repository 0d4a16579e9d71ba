"""HTTP API v1 of the backend (the contract of DESIGN.md)."""
