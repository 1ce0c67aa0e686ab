"""What layout produces: blocks (headings and paragraphs) over pieces of the original text, and the clean text."""

from __future__ import annotations

from dataclasses import dataclass, field

from .lines import SPACES

BLOCK_SEPARATOR = "\n\n"


@dataclass(slots=True)
class Piece:
    """A run of original text that becomes part of a block: [start, end) in the original."""

    start: int
    end: int
    page: int


@dataclass
class Block:
    """A heading or a paragraph of the report, in reading order.

    role (str): "heading" or "paragraph".
    kind (str | None): for paragraphs, one of `nlp.taxonomy.KINDS`.
    number (int | None): printed paragraph number.
    section (str | None): the nearest section heading above, as printed.
    area (str | None): judgement area id.
    pieces (list[Piece]): the original text it was built from.
    """

    role: str
    kind: str | None
    number: int | None
    section: str | None
    area: str | None
    pieces: list[Piece] = field(default_factory=list)
    bulleted: bool = False
    text: str = ""
    start: int = 0  # offset of `text` in `Layout.text`

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def char_start(self) -> int:
        return self.pieces[0].start

    @property
    def char_end(self) -> int:
        return self.pieces[-1].end

    @property
    def page_start(self) -> int:
        return self.pieces[0].page

    @property
    def page_end(self) -> int:
        return self.pieces[-1].page

    def to_dict(self) -> dict:
        # Field by field: dataclasses.asdict deep-copies recursively and dominated tokenization time.
        return {
            "role": self.role,
            "kind": self.kind,
            "number": self.number,
            "section": self.section,
            "area": self.area,
            "pieces": [{"start": p.start, "end": p.end, "page": p.page} for p in self.pieces],
            "bulleted": self.bulleted,
            "text": self.text,
            "start": self.start,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Block:
        return cls(**{**data, "pieces": [Piece(**piece) for piece in data["pieces"]]})


@dataclass
class Layout:
    """A report's clean text and its blocks. `has_pages` is False for text without page breaks."""

    text: str
    blocks: list[Block]
    has_pages: bool

    def to_dict(self) -> dict:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks], "has_pages": self.has_pages}

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        return cls(data["text"], [Block.from_dict(b) for b in data["blocks"]], data["has_pages"])


def assemble(original: str, blocks: list[Block], has_pages: bool) -> Layout:
    """The clean text: each block's pieces joined by single spaces, blocks separated by a blank line."""
    parts: list[str] = []
    offset = 0
    for block in blocks:
        block.text = " ".join(SPACES.sub(" ", original[p.start : p.end]) for p in block.pieces)
        block.start = offset
        parts.append(block.text)
        offset += len(block.text) + len(BLOCK_SEPARATOR)
    return Layout(BLOCK_SEPARATOR.join(parts), blocks, has_pages)
