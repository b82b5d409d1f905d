"""Plumbing every layer may use: atomic writes, the database, data paths, logs, locale."""
