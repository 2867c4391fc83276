"""Joining PDFs into one file without holding them: a streaming writer.

``PdfJoin`` writes each object to the output as soon as it is read, one source file at
a time, and keeps only the byte offset of each object written and the id of each page:
memory grows by a few integers a page, however many documents are joined. (pypdf's
``PdfWriter`` keeps every object of every file until it writes, so a tree of 1,300
dossiers would sit in memory whole.)

Each page can be stamped with an *overlay* page (the page number, drawn by WeasyPrint
in the report's font): the overlay is wrapped as a form XObject and drawn after the
page's own content, which is enclosed in ``q … Q`` so its graphics state cannot leak.
The outline (bookmarks) is written at the end from ``(title, page, top, children)``
entries collected while the parts were laid out.

Objects are renumbered per source (``_Source``): the page tree of every source is
replaced by the one of the output, and everything a page reaches (contents, resources,
fonts, annotations) is copied once per source file.
"""

import zlib
from collections import deque
from dataclasses import dataclass, field

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

CATALOG, PAGES = 1, 2  # the object numbers the output reserves for its root objects
STAMP = NameObject("/PbPageStamp")


@dataclass
class Bookmark:
    title: str
    page: int  # index in the output, from 0
    top: float | None = None  # PDF points from the bottom of the page; None: top of the page
    children: list["Bookmark"] = field(default_factory=list)


class _Source:
    """One input file: its objects renumbered into the output's numbering."""

    def __init__(self, join: "PdfJoin", path):
        self.join = join
        self.reader = PdfReader(str(path))
        self.ids: dict[tuple[int, int], int] = {}
        self.pending: deque[IndirectObject] = deque()

    def ref(self, ind: IndirectObject) -> IndirectObject:
        key = (ind.idnum, ind.generation)
        if key not in self.ids:
            self.ids[key] = self.join.allocate()
            self.pending.append(ind)
        return IndirectObject(self.ids[key], 0, None)  # type: ignore[arg-type]

    def copy(self, obj):
        """``obj`` with every indirect reference renumbered (and queued for writing)."""
        if isinstance(obj, IndirectObject):
            return self.ref(obj)
        if isinstance(obj, StreamObject):
            new = type(obj)()
            new._data = obj._data
            for key, value in obj.items():
                new[NameObject(key)] = self.copy(value)
            return new
        if isinstance(obj, DictionaryObject):
            new_dict = DictionaryObject()
            for key, value in obj.items():
                new_dict[NameObject(key)] = self.copy(value)
            return new_dict
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(value) for value in obj)
        return obj

    def flush(self) -> None:
        """Write every object queued so far (and those they reach)."""
        while self.pending:
            ind = self.pending.popleft()
            self.join.write_object(self.ids[(ind.idnum, ind.generation)], self.copy(ind.get_object()))


def _content_refs(page) -> list:
    """The page's content streams as references (a stream must stay an indirect object)."""
    contents = page.raw_get("/Contents") if "/Contents" in page else None
    if contents is None:
        return []
    resolved = contents.get_object()
    return list(resolved) if isinstance(resolved, ArrayObject) else [contents]


class PdfJoin:
    """Write ``add_file``'s pages to ``fh`` in order, then ``close`` with the outline."""

    def __init__(self, fh):
        self.fh = fh
        self.offsets: dict[int, int] = {}
        self.next_id = PAGES + 1
        self.page_ids: list[int] = []
        self.page_sizes: list[tuple[float, float]] = []
        fh.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def allocate(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def write_object(self, number: int, obj) -> None:
        self.offsets[number] = self.fh.tell()
        self.fh.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.fh)
        self.fh.write(b"\nendobj\n")

    def _wrap(self, data: bytes) -> IndirectObject:
        stream = DecodedStreamObject()
        stream.set_data(data)
        number = self.allocate()
        self.write_object(number, stream)
        return IndirectObject(number, 0, None)  # type: ignore[arg-type]

    def add_file(self, path, stamps=None) -> int:
        """Append every page of the PDF at ``path``; ``stamps(i, width, height)`` gives the
        overlay (a form XObject reference) for the output's page ``i``, or None. Returns
        the number of pages added."""
        source = _Source(self, path)
        pages = source.reader.pages
        numbers = [source.ref(page.indirect_reference) for page in pages]
        source.pending.clear()  # pages are written here, not by flush
        for page, number in zip(pages, numbers, strict=True):
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            index = len(self.page_ids)
            stamp = stamps(index, width, height) if stamps else None
            new = DictionaryObject()
            for key, value in page.items():
                if key in ("/Parent", "/Resources", "/Contents"):
                    continue
                new[NameObject(key)] = source.copy(value)
            new[NameObject("/Parent")] = IndirectObject(PAGES, 0, None)  # type: ignore[arg-type]
            # Inherited attributes are read through the page (pypdf resolves /Resources
            # and the boxes up the tree); the output's page tree has none of its own.
            new[NameObject("/MediaBox")] = source.copy(page.mediabox)
            original = page.get("/Resources")
            original = original.get_object() if original is not None else DictionaryObject()
            resources = DictionaryObject()
            for key, value in original.items():
                if key != "/XObject" or stamp is None:
                    resources[NameObject(key)] = source.copy(value)
            streams = [source.copy(ref) for ref in _content_refs(page)]
            if stamp is not None:
                # A dictionary of this page's own, even where the source shares one.
                xobjects = DictionaryObject()
                for key, value in original.get("/XObject", DictionaryObject()).get_object().items():
                    xobjects[NameObject(key)] = source.copy(value)
                xobjects[STAMP] = stamp
                resources[NameObject("/XObject")] = xobjects
                streams = [self._wrap(b"q\n"), *streams, self._wrap(b"\nQ\nq " + STAMP.encode() + b" Do Q\n")]
            new[NameObject("/Resources")] = resources
            new[NameObject("/Contents")] = ArrayObject(streams)
            self.write_object(number.idnum, new)
            self.page_ids.append(number.idnum)
            self.page_sizes.append((width, height))
            source.flush()
        source.flush()
        return len(pages)

    def form(self, path, index: int, *, dx: float = 0, dy: float = 0, cache: dict | None = None) -> IndirectObject:
        """Page ``index`` of the PDF at ``path`` as a form XObject written to the output
        (moved by ``dx``, ``dy``). ``cache`` keeps the open source between calls, so the
        objects its pages share (the font) are written once."""
        cache = cache if cache is not None else {}
        source = cache.get(path)
        if source is None:
            cache.clear()  # one overlay file at a time
            source = cache[path] = _Source(self, path)
        page = source.reader.pages[index]
        box = page.mediabox
        stream = StreamObject()
        stream._data = zlib.compress(b"\n".join(ref.get_object().get_data() for ref in _content_refs(page)))
        stream[NameObject("/Type")] = NameObject("/XObject")
        stream[NameObject("/Subtype")] = NameObject("/Form")
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        stream[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in (0, 0, box.width, box.height))
        stream[NameObject("/Matrix")] = ArrayObject(FloatObject(round(v, 3)) for v in (1, 0, 0, 1, dx, dy))
        resources = page.get("/Resources")
        stream[NameObject("/Resources")] = source.copy(resources.get_object()) if resources else DictionaryObject()
        number = self.allocate()
        self.write_object(number, stream)
        source.flush()
        return IndirectObject(number, 0, None)  # type: ignore[arg-type]

    def _outline(self, bookmarks: list[Bookmark], parent: int) -> tuple[int, int, int]:
        """Write ``bookmarks`` as outline items under ``parent``: (first, last, count)."""
        numbers = [self.allocate() for _ in bookmarks]
        count = len(bookmarks)
        for i, (mark, number) in enumerate(zip(bookmarks, numbers, strict=True)):
            item = DictionaryObject()
            item[NameObject("/Title")] = TextStringObject(mark.title)
            item[NameObject("/Parent")] = IndirectObject(parent, 0, None)  # type: ignore[arg-type]
            top = FloatObject(mark.top) if mark.top is not None else NullObject()
            item[NameObject("/Dest")] = ArrayObject(
                [
                    IndirectObject(self.page_ids[mark.page], 0, None),  # type: ignore[arg-type]
                    NameObject("/XYZ"),
                    NullObject(),
                    top,
                    NullObject(),
                ]
            )
            if i:
                item[NameObject("/Prev")] = IndirectObject(numbers[i - 1], 0, None)  # type: ignore[arg-type]
            if i + 1 < count:
                item[NameObject("/Next")] = IndirectObject(numbers[i + 1], 0, None)  # type: ignore[arg-type]
            if mark.children:
                first, last, _count = self._outline(mark.children, number)
                item[NameObject("/First")] = IndirectObject(first, 0, None)  # type: ignore[arg-type]
                item[NameObject("/Last")] = IndirectObject(last, 0, None)  # type: ignore[arg-type]
                item[NameObject("/Count")] = NumberObject(-len(mark.children))  # closed
            self.write_object(number, item)
        return numbers[0], numbers[-1], count

    def close(self, *, outline: list[Bookmark] = (), title: str = "") -> None:
        catalog = DictionaryObject()
        catalog[NameObject("/Type")] = NameObject("/Catalog")
        catalog[NameObject("/Pages")] = IndirectObject(PAGES, 0, None)  # type: ignore[arg-type]
        if outline:
            outlines = self.allocate()
            first, last, count = self._outline(list(outline), outlines)
            root = DictionaryObject()
            root[NameObject("/Type")] = NameObject("/Outlines")
            root[NameObject("/First")] = IndirectObject(first, 0, None)  # type: ignore[arg-type]
            root[NameObject("/Last")] = IndirectObject(last, 0, None)  # type: ignore[arg-type]
            root[NameObject("/Count")] = NumberObject(count)
            self.write_object(outlines, root)
            catalog[NameObject("/Outlines")] = IndirectObject(outlines, 0, None)  # type: ignore[arg-type]
            catalog[NameObject("/PageMode")] = NameObject("/UseOutlines")
        pages = DictionaryObject()
        pages[NameObject("/Type")] = NameObject("/Pages")
        pages[NameObject("/Kids")] = ArrayObject(IndirectObject(n, 0, None) for n in self.page_ids)  # type: ignore[arg-type]
        pages[NameObject("/Count")] = NumberObject(len(self.page_ids))
        self.write_object(PAGES, pages)
        self.write_object(CATALOG, catalog)
        info = None
        if title:
            info = self.allocate()
            meta = DictionaryObject()
            meta[NameObject("/Title")] = TextStringObject(title)
            meta[NameObject("/Producer")] = TextStringObject("partybuild")
            self.write_object(info, meta)
        size = self.next_id
        xref = self.fh.tell()
        self.fh.write(f"xref\n0 {size}\n".encode())
        self.fh.write(b"0000000000 65535 f \n")
        for number in range(1, size):
            offset = self.offsets.get(number)
            self.fh.write(f"{offset:010d} 00000 n \n".encode() if offset is not None else b"0000000000 65535 f \n")
        trailer = f"trailer\n<< /Size {size} /Root {CATALOG} 0 R"
        trailer += f" /Info {info} 0 R" if info else ""
        self.fh.write(f"{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode())
