"""File access for tools: every path goes through ``Sandbox`` (one choke point)."""
