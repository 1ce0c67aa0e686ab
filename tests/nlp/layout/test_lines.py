"""Layout step 1: lines with offsets, pages and gaps; the text column's width."""

from __future__ import annotations

from nlp.layout.lines import column_width, ends_sentence, local_column_widths, split_lines


def test_lines_keep_offsets_pages_and_gaps():
    text = "Title\n\n  First line\nsecond\fNext page"
    lines = split_lines(text)
    assert [(line.text, line.page, line.gap_before, line.page_break_before, line.indented) for line in lines] == [
        ("Title", 1, False, False, False),
        ("First line", 1, True, False, True),
        ("second", 1, False, False, False),
        ("Next page", 2, True, True, False),
    ]
    assert all(text[line.start : line.end] == line.text for line in lines)


def test_lines_end_sentences_at_stops_colons_and_closing_brackets():
    assert ends_sentence("Plans are clear.") and ends_sentence("They include:") and ends_sentence("(Recommendation)")
    assert not ends_sentence("Plans are clear and")


def test_lines_column_width_is_a_high_percentile_of_line_lengths():
    lines = split_lines("\n".join(["x" * 80] * 9 + ["short"]))
    assert column_width(lines) == 80
    assert local_column_widths(lines) == [80] * 10
    assert column_width([]) == 0
