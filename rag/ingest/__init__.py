"""Ingestion: read files (read), clean text and HTML (clean, html), split into chunks (chunk), and store them (pipeline)."""
