import pytest

from cities.markdown import render_markdown


def test_markdown_renders_emphasis_and_links():
    html = render_markdown("**Open** data at [the portal](https://data.example.org)")
    assert "<strong>Open</strong>" in html
    assert 'href="https://data.example.org"' in html
    assert 'rel="nofollow noopener"' in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<div onmouseover="alert(1)">hover</div>',
        "<iframe src=https://evil.example></iframe>",
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
    ],
)
def test_markdown_strips_active_content(payload):
    html = render_markdown(payload).lower()
    for forbidden in ("<script", "onerror", "onload", "onmouseover", "javascript:", "data:",
                      "<iframe", "<svg", "<style"):  # fmt: skip
        assert forbidden not in html


def test_empty_markdown_is_empty():
    assert render_markdown("") == ""
