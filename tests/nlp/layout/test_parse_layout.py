"""Layout analysis end to end: parse_layout on small reports, arbitrary text and the whole corpus."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.layout import Block, Layout, parse_layout

FOOTER = "Inspection of Anytown local authority children’s services\n4 to 15 March 2024"


def _page(body: str, number: int) -> str:
    return f"{body}\n{FOOTER}\n\n{number}\n"


ILACS_PAGES = [
    "Inspection of Anytown local authority children’s services\nInspection dates: 4 to 15 March 2024\n"
    "Lead inspector: A Person, His Majesty’s Inspector\n\nJudgement\n\nGrade\n\n"
    "The impact of leaders on social work practice with children\nand families\n\nGood\n\n"
    "Overall effectiveness\n\nGood\n\n"
    "Children in Anytown receive good services that make a positive difference to their lives, and leaders have\n"
    "sustained the improvements made since the last inspection, so that most children get the right help.\n"
    "Senior leaders know their services well.\n\n"
    "What needs to improve?\n◼ The timeliness of return home interviews for children who go\nmissing.\n"
    "◼ The quality of pathway plans.\n\n"
    "The experiences and progress of children who need help and\nprotection: good\n"
    "1. Early help is effective. Families receive support when they first need it and the\n"
    "early help offer is well understood by partners across the area.\n"
    "2. Thresholds are well understood and the multi-agency safeguarding hub responds to\nreferrals",
    "promptly, with clear decisions recorded by managers.\n"
    "3. Strategy meetings are timely and well attended by partners.",
    "The experiences and progress of children in care: requires improvement to be good\n"
    "4. Too many children experience placement moves.\n\n"
    "The Office for Standards in Education, Children’s Services and Skills (Ofsted) regulates and\n"
    "inspects to achieve excellence in the care of children and young people.\n© Crown copyright 2024",
]
ILACS_TEXT = "\f".join(_page(body, n) for n, body in enumerate(ILACS_PAGES, start=1))


@pytest.fixture(scope="module")
def ilacs_layout():
    return parse_layout(ILACS_TEXT)


def _paragraphs(layout):
    return [b for b in layout.blocks if b.role == "paragraph"]


def test_layout_numbered_paragraphs_split_at_their_numbers(ilacs_layout):
    numbered = [b for b in _paragraphs(ilacs_layout) if b.number is not None]
    assert [b.number for b in numbered] == [1, 2, 3, 4]
    assert numbered[0].text.startswith("Early help is effective.")
    assert not numbered[0].text.startswith("1.")


def test_layout_paragraph_broken_by_page_break_is_rejoined(ilacs_layout):
    second = next(b for b in _paragraphs(ilacs_layout) if b.number == 2)
    assert second.text.endswith("responds to referrals promptly, with clear decisions recorded by managers.")
    assert (second.page_start, second.page_end) == (1, 2)


def test_layout_drops_running_footer_and_page_numbers(ilacs_layout):
    for block in ilacs_layout.blocks:
        assert "Inspection of Anytown" not in block.text
        assert "4 to 15 March 2024" not in block.text
        assert not re.search(r"managers\. \d", block.text)


def test_layout_drops_grade_table_and_end_matter(ilacs_layout):
    texts = " ".join(b.text for b in ilacs_layout.blocks)
    assert "Judgement" not in texts and "Overall effectiveness" not in texts
    assert "Crown copyright" not in texts and "regulates" not in texts


def test_layout_bullets_become_one_recommendation_each(ilacs_layout):
    recommendations = [b for b in _paragraphs(ilacs_layout) if b.kind == "recommendation"]
    assert [r.text for r in recommendations] == [
        "The timeliness of return home interviews for children who go missing.",
        "The quality of pathway plans.",
    ]


def test_layout_places_findings_in_sections_and_areas(ilacs_layout):
    by_number = {b.number: b for b in _paragraphs(ilacs_layout) if b.number}
    assert by_number[1].area == "help_and_protection" and by_number[1].kind == "finding"
    assert by_number[4].area == "children_in_care"
    summary = _paragraphs(ilacs_layout)[0]
    assert summary.kind == "summary" and summary.area is None
    assert summary.text.startswith("Children in Anytown receive good services")


def test_layout_offsets_point_into_the_original_text(ilacs_layout):
    for block in _paragraphs(ilacs_layout):
        original = ILACS_TEXT[block.char_start : block.char_end]
        assert original.split()[0] == block.text.split()[0]
        assert original.split()[-1] == block.text.split()[-1]
        assert ilacs_layout.text[block.start : block.end] == block.text


def test_layout_executive_summary_paragraphs_without_blank_lines_are_separated():
    width_line = "This line is long enough to fill the whole text column of a page in the report ab"
    text = (
        "Executive summary\n"
        f"{width_line}\nand it ends here.\n"
        f"{width_line}\nand this one ends here.\n"
    )
    paragraphs = _paragraphs(parse_layout(text))
    assert [p.text.split()[-2:] for p in paragraphs] == [["ends", "here."], ["ends", "here."]]


def test_layout_lossy_text_keeps_bullets_dropped_by_extractor():
    text = "Executive summary\n Children are seen alone and their wishes are known.\n Plans are clear.\n"
    assert [p.text for p in _paragraphs(parse_layout(text))] == [
        "Children are seen alone and their wishes are known.",
        "Plans are clear.",
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000))
def test_layout_arbitrary_text_never_raises_and_blocks_stay_ordered(text):
    layout = parse_layout(text)
    previous_end = -1
    for block in layout.blocks:
        assert 0 <= block.start <= block.end <= len(layout.text)
        assert block.start > previous_end
        previous_end = block.end
        assert 0 <= block.char_start <= block.char_end <= len(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["1.", "2.", "3.", "\f", "", "◼ item", "What needs to improve?", "Executive summary", "12"]),
            st.text(alphabet="abcdefghij ABC.,", min_size=1, max_size=90),
        ),
        max_size=80,
    )
)
def test_layout_report_like_text_keeps_order_and_bounds(parts):
    text = "\n".join(parts)
    layout = parse_layout(text)
    starts = [b.char_start for b in layout.blocks]
    assert starts == sorted(starts)
    for block in layout.blocks:
        assert all(0 <= p.start <= p.end <= len(text) for p in block.pieces)


# --- whole corpus ----------------------------------------------------------------------------------

_MARKER_LINE = re.compile(r"^\f?(\d{1,3})\.?(?:\s|$)", re.MULTILINE)


@pytest.fixture(scope="module")
def corpus_layouts(corpus, corpus_index):
    return {
        report_id: (text, parse_layout(text))
        for report_id in corpus_index
        for text in [(corpus / "text" / f"{report_id}.txt").read_text(encoding="utf-8")]
    }


@pytest.mark.corpus
def test_layout_ilacs_numbered_paragraphs_run_1_to_n(corpus_layouts, corpus_index):
    failures = {}
    for report_id, (text, layout) in corpus_layouts.items():
        if corpus_index[report_id]["framework"] != "ILACS":
            continue
        numbers = [b.number for b in _paragraphs(layout) if b.number is not None]
        expected = list(range(1, max(numbers, default=0) + 1))
        # A number the report itself never prints cannot come out; every printed one must.
        printed = {int(m.group(1)) for m in _MARKER_LINE.finditer(text)}
        expected = [n for n in expected if n in printed]
        if numbers != expected or len(numbers) < 10:
            failures[report_id] = (len(numbers), sorted(set(expected) - set(numbers))[:5])
    assert not failures


def _running_lines(text: str) -> set[str]:
    """Lines with words that recur on at least half of the pages: headers and footers, found independently."""
    pages = text.split("\f")
    seen = Counter(line.strip() for page in pages for line in set(page.splitlines()) if len(line.strip()) > 12)
    return {line for line, count in seen.items() if count >= max(3, len(pages) // 2)}


@pytest.mark.corpus
def test_layout_no_finding_contains_furniture(corpus_layouts):
    leaks = []
    for report_id, (text, layout) in corpus_layouts.items():
        furniture = _running_lines(text)
        for block in layout.blocks:
            if any(line in block.text for line in furniture) or re.search(r"©|Crown copyright|Textphone|Piccadilly Gate", block.text):
                leaks.append((report_id, block.text[:80]))
            raw = text[block.char_start : block.char_end].split("\n")
            for before, number, after in zip(raw, raw[1:], raw[2:]):
                if re.fullmatch(r"\s*\d{1,3}\s*", number) and before.strip() and after.strip():
                    joined = f"{before.split()[-1]} {number.strip()} {after.split()[0]}"
                    if joined in block.text:
                        leaks.append((report_id, joined))
    assert not leaks, leaks[:10]


@pytest.mark.corpus
def test_layout_seed_and_pdftotext_twin_agree(seed_text, corpus):
    def letters(text):
        return re.sub(r"[^a-z]", "", text.lower())

    seed = [letters(b.text) for b in _paragraphs(parse_layout(seed_text))]
    twin_text = (corpus / "text" / "wigan-2017-sif.txt").read_text(encoding="utf-8")
    twin = [letters(b.text) for b in _paragraphs(parse_layout(twin_text))]
    found_in_seed = sum(1 for paragraph in twin if paragraph in set(seed)) / len(twin)
    found_in_twin = sum(1 for paragraph in seed if paragraph in set(twin)) / len(seed)
    assert found_in_seed >= 0.90 and found_in_twin >= 0.90, (found_in_seed, found_in_twin)


def test_layout_blocks_round_trip_through_dicts(ilacs_layout):
    assert [Block.from_dict(b.to_dict()) for b in ilacs_layout.blocks] == ilacs_layout.blocks
    assert Layout.from_dict(ilacs_layout.to_dict()) == ilacs_layout


def _title_lines_on_three_pages(text: str) -> set[str]:
    """Lines shaped like running headers and footers (a capital first letter, no closing stop) that
    occur on at least three pages of the raw text: furniture, or headings, never part of a finding."""
    seen = Counter(" ".join(line.split()) for page in text.split("\f") for line in set(page.split("\n")))
    return {
        line
        for line, pages in seen.items()
        if pages >= 3 and len(re.findall(r"[^\W\d_]", line)) >= 3 and re.search(r"[^\W\d_]", line).group().isupper()
        and not re.search(r"""[.!?:;)]["'’”]*$""", line)
    }


def _leaks(text: str, layout) -> list[str]:
    repeated = _title_lines_on_three_pages(text)
    leaks = []
    for block in _paragraphs(layout):
        for piece in block.pieces:
            line_start = max(text.rfind("\n", 0, piece.start), text.rfind("\f", 0, piece.start)) + 1
            line_end = min(i for i in (text.find("\n", piece.end), text.find("\f", piece.end), len(text)) if i >= 0)
            line = " ".join(text[line_start:line_end].split())
            if line in repeated:
                leaks.append(f"{line!r} in {block.text[:60]!r}")
    return leaks


def test_layout_repeated_title_lines_are_found_in_a_report():
    page = "Inspection of Anytown children’s services\nChildren are safe.\n(Recommendation)\nand families\n"
    assert _title_lines_on_three_pages("\f".join([page] * 3)) == {"Inspection of Anytown children’s services"}


@pytest.mark.corpus
def test_layout_no_finding_has_a_line_repeated_on_three_pages(corpus_layouts):
    leaks = {report_id: found for report_id, (text, layout) in corpus_layouts.items() if (found := _leaks(text, layout))}
    assert not leaks, leaks


@pytest.mark.corpus
def test_layout_no_finding_of_a_pdf_has_a_line_repeated_on_three_pages(corpus):
    from nlp.pdf import extract_pdf_text

    texts = {path.stem: extract_pdf_text(path) for path in sorted((corpus / "pdf").glob("*.pdf"))}
    leaks = {report_id: found for report_id, text in texts.items() if (found := _leaks(text, parse_layout(text)))}
    assert texts and not leaks, leaks
