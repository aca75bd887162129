"""Keyword tokens: the language-neutral tokens of a question are cut exactly as the indexed text is."""
from __future__ import annotations

import pytest

from index.tokenize import neutral_tokens, tokenize


@pytest.mark.parametrize("question, tokens", [
    ("What is the title of the draft new resolution [EUR-2]?", ["eur-2"]),
    ("Who submitted CCW/GGE.1/2023/WP.4?", ["ccw", "gge.1", "2023", "wp.4"]),
    ("Which resolution, A/RES/70/125 or the UNEP one, mentions COVID-19?", ["res", "70", "125", "unep", "covid-19"]),
    ("2015年2月17和18日特别委员会第276和277次会议", ["2015", "2", "17", "18", "276", "277"]),
    ("Who chairs the Group of Experts?", []),
])
def test_neutral_tokens_are_numbers_and_acronyms_cut_as_the_index_cuts_them(question, tokens) -> None:
    assert neutral_tokens(question) == tokens
    indexed = set(tokenize("第[EUR-2]号新决议草案 CCW/GGE.1/2023/WP.4 A/RES/70/125 UNEP COVID-19 2015年2月17和18日 第276和277次"))
    assert set(tokens) <= indexed  # every neutral token can match the same symbol in a passage
