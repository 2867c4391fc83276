"""WeasyPrint in a child process, for the parts of the year PDF.

WeasyPrint keeps a little memory per document it lays out (about 0.2–0.8 MB measured
here, in Pango, fontconfig and its caches): over the 1,300 dossiers of a group that
adds up. The year PDF therefore lays its parts out in a child process that is replaced
every ``RECYCLE`` (50) documents (as Celery replaces a worker after ``max_tasks_per_child``),
so the memory of a report is bounded whatever the size of the tree.

The child is this file run as a script (no Django: it is handed finished HTML). One
JSON line per document each way: the job (HTML file, output file, stylesheets, base
URL) and the answer (pages, the first page's width, the bookmarks) or the error.
"""

import json
import subprocess
import sys
from pathlib import Path

RECYCLE = 50
# The largest peak RSS (MB) a renderer process reached, for bench_export.
STATS = {"peak_mb": 0.0, "processes": 0}
PT_PER_PX = 0.75  # WeasyPrint's PDF points per CSS pixel


class RenderError(RuntimeError):
    pass


class Renderer:
    """Lay documents out in a child process, started on demand and replaced every
    ``recycle`` documents; ``close`` (or leaving the ``with`` block) stops it."""

    def __init__(self, *, recycle: int = RECYCLE):
        self.recycle = recycle
        self.process: subprocess.Popen | None = None
        self.done = 0

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.process is not None:
            process, self.process = self.process, None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def render(self, html_path: Path, out: Path, *, css_files=(), css_strings=(), base_url: str = ".") -> dict:
        """Lay ``html_path`` out, write the PDF to ``out``: {"pages", "width", "bookmarks"}
        (bookmarks as [label, page, y, children], y in PDF points from the bottom)."""
        if self.process is None or self.done >= self.recycle:
            self.close()
            self.process = subprocess.Popen(
                # -P: not this file's directory first on the path (its selectors.py would
                # stand in for the standard library's).
                [sys.executable, "-P", str(Path(__file__))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.done = 0
            STATS["processes"] += 1
        job = {
            "html": str(html_path),
            "out": str(out),
            "css_files": list(css_files),
            "css_strings": list(css_strings),
            "base_url": base_url,
        }
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            code = self.process.poll()
            self.close()
            raise RenderError(f"the PDF renderer stopped (exit code {code})")
        self.done += 1
        answer = json.loads(line)
        STATS["peak_mb"] = max(STATS["peak_mb"], answer.get("peak_mb", 0.0))
        if "error" in answer:
            raise RenderError(answer["error"])
        return answer


def _bookmarks(nodes) -> list:
    return [[label, page, y, _bookmarks(children)] for label, (page, _x, y), children, _state in nodes]


def _peak_mb() -> float:
    """This process's peak resident set (Linux's VmHWM), in MB; 0 where unknown."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0.0


def main() -> None:  # pragma: no cover - runs in the child, exercised through Renderer
    from weasyprint import CSS, HTML

    for line in sys.stdin:
        job = json.loads(line)
        try:
            stylesheets = [CSS(filename=name) for name in job["css_files"]]
            stylesheets += [CSS(string=text) for text in job["css_strings"]]
            html = Path(job["html"]).read_text(encoding="utf-8")
            document = HTML(string=html, base_url=job["base_url"]).render(stylesheets=stylesheets)
            tree = document.make_bookmark_tree(PT_PER_PX, transform_pages=True)
            document.write_pdf(job["out"])
            answer = {
                "pages": len(document.pages),
                "width": document.pages[0].width * PT_PER_PX if document.pages else 0,
                "bookmarks": _bookmarks(tree),
            }
            del document
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answer["peak_mb"] = _peak_mb()
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
