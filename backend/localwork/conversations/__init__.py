"""Conversations kept on disk, and their export and import."""
