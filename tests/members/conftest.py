"""The ``work`` meter of the bounded workbook reader (``members.imports.xlsx``): the
tests of crafted files assert how far the reader got, not how long it took."""

import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from xml.parsers import expat

import pytest


@dataclass
class Work:
    """What the reader did: each part it parsed (in order), and per part the
    uncompressed bytes fed to the XML parser and the elements it was handed."""

    parts: list[str] = field(default_factory=list)
    bytes: Counter = field(default_factory=Counter)
    elements: Counter = field(default_factory=Counter)

    def assert_bounded_by(self, content: bytes) -> None:
        """No more work than the file holds: each part parsed once, never more bytes
        or elements than it has (nothing padded, nothing re-read)."""
        assert len(self.parts) == len(set(self.parts)), self.parts
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for part in self.parts:
                assert self.bytes[part] <= archive.getinfo(part).file_size
                assert self.elements[part] <= elements_in(archive.read(part)), part


def elements_in(xml: bytes) -> int:
    """How many elements the XML holds (a DTD, which the reader refuses, is not expanded
    here either)."""
    count = [0]
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda tag, attrs: count.__setitem__(0, count[0] + 1)
    parser.Parse(xml, True)
    return count[0]


@pytest.fixture
def work(monkeypatch) -> Work:
    """Meter every parse of ``xlsx._expat``: the source's reads and the start-element
    handler's calls (the handler spends the reader's element budget)."""
    from members.imports import xlsx as module

    meter = Work()
    parse = module._expat

    def metered(source, start, end, text):
        part = source.name
        meter.parts.append(part)

        class Counted:
            def read(self, size=-1):
                data = source.read(size)
                meter.bytes[part] += len(data)
                return data

        def counted_start(tag, attrs):
            meter.elements[part] += 1
            return start(tag, attrs)

        parse(Counted(), counted_start if start is not None else None, end, text)

    monkeypatch.setattr(module, "_expat", metered)
    return meter
