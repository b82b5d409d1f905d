"""The remote engine's first layer: talking to an OpenAI-compatible server (llama-server,
vLLM, Ollama, LM Studio, a hosted API) over HTTP, and turning its failures into coded errors.

address.py (which base URLs are accepted, and which send traffic unencrypted), connection.py
(the server, its key and timeouts; the HTTP client), cancel.py (closing a request's socket
from any thread), request.py (the request's typed shape), stream.py (chunks into a reply),
toolcalls.py (tool-call deltas into calls), failures.py (HTTP answers and transport errors
into ``localwork.errors``), client.py (a streamed chat completion), model_list.py
(``GET /models``). The ``<think>`` splitter is ``engine/reasoning.py``, shared with any engine.
"""
