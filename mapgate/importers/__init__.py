"""Importers: turn another tool's project into mapgate stack files, with a report of what carried over."""
