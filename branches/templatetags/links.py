"""``{% link_if_allowed %}`` and ``{% url_if_allowed %}``: links rendered only for those
who may follow them (``branches.links``); everyone else reads plain text."""

from urllib.parse import urlencode

from django import template
from django.utils.html import conditional_escape, format_html

from branches import links

register = template.Library()


def _query(query: str, params: dict) -> str | None:
    """``query`` (a ready string) followed by the ``q_<name>=value`` arguments."""
    extra = urlencode({name[2:]: value for name, value in params.items() if name.startswith("q_")})
    return "&".join(part for part in (query, extra) if part) or None


@register.simple_tag
def url_if_allowed(user, target, *args, query="", **params):
    """The URL, or "" when ``user`` may not open it: ``{% url_if_allowed user "view"
    a b as url %}{% if url %}<a class="btn" href="{{ url }}">…</a>{% endif %}``.
    ``query="draft=1"`` or ``q_name=value`` arguments add a query string."""
    return links.url_if_allowed(user, target, *args, query=_query(query, params)) or ""


@register.simple_tag
def link_if_allowed(user, target, *args, text=None, query="", fragment="", css="", id="", **params):
    """``<a href="…">text</a>`` when ``user`` may open the page, else the text alone.
    ``target`` is an object with ``get_absolute_url`` (its text defaults to its name)
    or a view name reversed with ``args``; ``query``/``q_name=value`` as above."""
    if text is None:
        text = getattr(target, "name", None) or str(target)
    url = links.url_if_allowed(user, target, *args, query=_query(query, params))
    if not url:
        return conditional_escape(text)
    if fragment:
        url = f"{url}#{fragment}"
    return format_html(
        '<a href="{}"{}{}>{}</a>',
        url,
        format_html(' class="{}"', css) if css else "",
        format_html(' id="{}"', id) if id else "",
        text,
    )
