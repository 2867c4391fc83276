"""The year PDF's machinery on its own: the renderer's child process, replaced every
``recycle`` documents, and the streaming join (pages in order, a valid file, the outline)."""

from pypdf import PdfReader

from branches.reports.pdfjoin import Bookmark, PdfJoin
from branches.reports.pdfworker import Renderer, RenderError


def html_file(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.html"
    path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    return path


def test_the_renderer_lays_out_in_a_child_replaced_every_recycle_documents(tmp_path):
    pids = []
    with Renderer(recycle=2) as renderer:
        for n in range(3):
            answer = renderer.render(
                html_file(tmp_path, str(n), f"<h1>Part {n}</h1><p>text</p>"), tmp_path / f"{n}.pdf"
            )
            pids.append(renderer.process.pid)
            assert answer["pages"] == 1 and answer["bookmarks"][0][0] == f"Part {n}"
    assert pids[0] == pids[1] != pids[2]
    assert renderer.process is None  # stopped on leaving


def test_a_document_the_renderer_cannot_lay_out_is_an_error(tmp_path):
    with Renderer() as renderer:
        try:
            renderer.render(tmp_path / "missing.html", tmp_path / "out.pdf")
        except RenderError as exc:
            assert "missing.html" in str(exc)
        else:
            raise AssertionError("no error")


def test_the_join_keeps_the_pages_in_order_and_writes_the_outline(tmp_path):
    with Renderer() as renderer:
        renderer.render(
            html_file(tmp_path, "a", "<p>alpha</p><p style='break-before: page'>beta</p>"), tmp_path / "a.pdf"
        )
        renderer.render(html_file(tmp_path, "b", "<p>gamma</p>"), tmp_path / "b.pdf")
    out = tmp_path / "out.pdf"
    with open(out, "wb") as fh:
        join = PdfJoin(fh)
        join.add_file(tmp_path / "a.pdf")
        join.add_file(tmp_path / "b.pdf")
        join.close(outline=[Bookmark("A", 0, None, [Bookmark("A2", 1)]), Bookmark("B", 2)], title="t")
    reader = PdfReader(str(out), strict=True)
    assert [page.extract_text().strip() for page in reader.pages] == ["alpha", "beta", "gamma"]
    top = reader.outline
    assert [top[0].title, top[2].title] == ["A", "B"] and top[1][0].title == "A2"
    assert [reader.get_destination_page_number(item) for item in (top[0], top[1][0], top[2])] == [0, 1, 2]
