"""The local API: the app's models served to the user's other programs (editors, coding
agents, scripts) in the OpenAI and Anthropic shapes, on Starlette + uvicorn (``server.py``).

``service.py`` is what every endpoint asks of the app (which model, one turn on the shared
engine through ``engine/gate.py``, the request log); ``guard.py`` the checks every request
passes (Host, Origin, key, size); ``openai.py``, ``anthropic.py`` and ``responses.py`` each
API's shape in and out; ``routes.py`` the endpoints; ``wire.py`` the errors and ids.
The caller runs its own tools: the API returns calls, never runs the app's file tools, and
stores no conversation.
"""
