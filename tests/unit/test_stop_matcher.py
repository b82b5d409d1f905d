from localwork.engine.local.worker import StopMatcher


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


def test_a_hidden_control_token_that_is_a_stop_ends_the_text():
    matcher = StopMatcher(["<start_of_turn>", "<end_of_turn>"])
    assert matcher.feed("Hi <start") == "Hi "
    assert matcher.feed_marker("<bos>") is None and matcher.matched is None
    assert matcher.feed_marker("<start_of_turn>") == "<start"  # held text is not lost
    assert matcher.matched == "<start_of_turn>"
    assert matcher.feed_marker("<end_of_turn>") is None  # the first stop stays the match
