"""Nothing on the page animates without end, except the model-loading dot.

In the Qt window (software compositing, as under Xvfb and on machines without a GPU driver)
an endless CSS animation redraws the window every frame in the UI process: the waiting
reply's pulsing ellipsis took 93 % of a core on two cores, taken from the engine while it
read the prompt (README, "The window's speed").
"""

import re

from localwork.transports.resources import frontend_dir

# One rule with an endless animation is allowed: the status dot while a model loads, when no
# reply is being written.
ALLOWED = {'.status-dot[data-state="loading"]'}


def test_only_the_loading_dot_animates_forever():
    css = (frontend_dir() / "css" / "app.css").read_text()
    endless = set()
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if re.search(r"animation[^;]*\binfinite\b", body):
            endless.add(re.sub(r"/\*.*?\*/", "", selectors, flags=re.S).strip())
    assert endless == ALLOWED
