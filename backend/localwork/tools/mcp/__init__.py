"""Tools from MCP servers: the client layer, on the official ``mcp`` SDK.

One job a module:

- ``config.py``      a server's settings, and the ``mcpServers`` JSON other apps write
- ``commands.py``    finds a stdio server's command (``npx``, ``uvx``…) on PATH or the login shell's
- ``launcher.py``    runs a stdio server in its own process group, which dies with the app
- ``stderr.py``      keeps the last lines a server wrote to stderr
- ``transport.py``   the SDK transport for a config, watched for its end and for garbage
- ``catalog.py``     what a server offers: ``ToolInfo`` and its annotations
- ``results.py``     what a call returns: typed content, structured content, ``is_error``
- ``connection.py``  one session with one server, from start to end (async)
- ``supervisor.py``  one server over time: its state, restarts with backoff (async)
- ``loop.py``        the background event-loop thread the SDK's asyncio runs on
- ``manager.py``     ``McpServerManager``: the synchronous API the rest of the app calls
- ``source.py``      one server as a ``ToolSource``, with each tool's policy
- ``store.py``       the user's ``mcp.json``: servers, when each starts, each tool's policy
- ``service.py``     ``McpService``: the store and the manager in step, for the app and pane

This package's ``__init__`` imports nothing: the launcher runs as a bare script.
"""
