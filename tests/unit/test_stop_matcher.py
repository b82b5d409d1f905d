from localwork.engine.worker import StopMatcher


def feed_all(matcher, pieces):
    return "".join(matcher.feed(piece) for piece in pieces)


def test_text_without_stops_passes_through():
    matcher = StopMatcher([])
    assert feed_all(matcher, ["Hello", " world"]) == "Hello world"


def test_a_stop_split_across_pieces_is_found_and_hidden():
    matcher = StopMatcher(["<tool_call>"])
    shown = feed_all(matcher, ["Let me check.", "<tool", "_ca", "ll>", '{"name"'])
    assert shown == "Let me check."
    assert matcher.matched == "<tool_call>"


def test_a_false_start_is_released():
    matcher = StopMatcher(["<tool_call>"])
    assert matcher.feed("a <tool") == "a "
    assert matcher.feed("box> b") == "<toolbox> b"
    assert matcher.flush() == "" and matcher.matched is None


def test_the_first_of_several_stops_wins():
    matcher = StopMatcher(["[TOOL_CALLS]", "<tool_call>"])
    assert matcher.feed("x [TOOL_CALLS] y <tool_call>") == "x "
    assert matcher.matched == "[TOOL_CALLS]"
