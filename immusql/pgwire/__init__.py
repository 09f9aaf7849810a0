"""PostgreSQL v3 wire protocol server for immusql."""
