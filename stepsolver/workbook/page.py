"""The practice pages, from ``templates/practice/`` (layout lives only in
templates): the list of exercises, and one exercise's page -- the exercise
sheet as the HTML format writes it, the blank sheet as a form, and the
script that checks it through the JSON API.  Everything is inline: no CDN,
no external fonts or scripts."""

from __future__ import annotations

import hashlib
import json

from ..render.environment import environment
from ..render.markup import html_escape

#: the sentences the page's script writes (keys of [practice] in the language tables)
SCRIPT_TEXTS = ("verdict_correct", "verdict_wrong", "verdict_carried", "verdict_imprecise", "verdict_blank",
                "score", "first_wrong", "all_right", "true_value", "checking", "making", "failed", "variant_failed",
                "reveal", "hide", "show_step", "hide_step", "step_of")


def _json_script(data) -> str:
    """JSON safe inside <script type="application/json">."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _render(name: str, **ctx) -> str:
    env = environment()
    env.filters.setdefault("html_escape", html_escape)
    return env.get_template(name).render(**ctx)


def index_page(listing: list[dict], tr, error: str | None = None) -> str:
    return _render("practice/index.html.j2", exercises=listing, tr=tr, lang=tr.lang, error=error, esc=html_escape)


def exercise_page(src, form: dict, question: dict, tr) -> str:
    from .exercise import PLACE_FIELDS

    digest = hashlib.sha1(src.text.encode("utf-8")).hexdigest()[:10]
    data = {"id": src.id, "digest": digest, "count": form["count"], "blank": form["blank"],
            "fields": list(PLACE_FIELDS),
            "text": {k: tr(f"practice.{k}") for k in SCRIPT_TEXTS}}
    return _render("practice/page.html.j2", f=form, q=question, tr=tr, lang=tr.lang, esc=html_escape,
                   data=_json_script(data), path_json=lambda p: html_escape(json.dumps(p)))
