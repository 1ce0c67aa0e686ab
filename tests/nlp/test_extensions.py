"""The text of a Doc and of its findings, read without joining their tokens."""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.tokens import Doc

from nlp.extensions import TEXT_KEY, doc_text, span_texts
from nlp.pipeline import make_segmenter

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reports" / "stockport-2022-ilacs.txt"


def test_a_reports_findings_read_as_their_spans_texts():
    doc = make_segmenter()(SAMPLE.read_text(encoding="utf-8"))
    findings = doc.spans["findings"]
    assert len(findings) > 20
    # The text the report tokenizer kept is the one read, not a join of the tokens.
    assert doc_text(doc) is doc.user_data[TEXT_KEY]
    assert doc_text(doc) == doc.text
    assert span_texts(doc, findings) == [span.text for span in findings]


def test_a_doc_not_made_by_the_report_tokenizer_is_read_from_its_tokens():
    doc = spacy.blank("en")("Adopters are matched quickly. Caseloads are high.")
    assert doc_text(doc) == doc.text
    assert span_texts(doc, [doc[0:2], doc[5:8]]) == ["Adopters are", "Caseloads are high"]


def test_a_stored_text_that_does_not_span_the_doc_is_not_used():
    doc = spacy.blank("en")("Adopters are matched quickly.")
    doc.user_data[TEXT_KEY] = "Something else entirely"
    assert doc_text(doc) == "Adopters are matched quickly."


def test_another_docs_stored_text_of_the_same_length_is_not_used():
    doc = make_segmenter()(SAMPLE.read_text(encoding="utf-8"))
    shouting = Doc(doc.vocab, words=[token.text.upper() for token in doc], spaces=[bool(token.whitespace_) for token in doc], user_data=dict(doc.user_data))
    assert len(doc_text(shouting)) == len(doc.user_data[TEXT_KEY])
    assert doc_text(shouting) == shouting.text != doc.text
