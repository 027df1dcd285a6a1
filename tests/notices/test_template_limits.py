"""A template cannot hang saving or the daily run: rendering has a clock and a size limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.notices import templates

ActorAt = Callable[[str, str], Actor]
KIND = "article_available"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{{ 'x' * 10**9 }}", "more than 100,000 characters"),
        ("{{ 10**10**10 }}", "too large a number"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "takes longer than 1 s",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "longer than",  # the size limit or the clock, whichever comes first
        ),
        ("{{ 'x'|center(1000000000) }}", "too large a number"),
        ("{{ range(100000)|join('x' * 1000) }}", "too much text"),
        ("{{ lipsum(1000000) }}", "too large a number"),
    ],
)
def test_a_runaway_template_is_refused_when_saved(
    demo_rt: Runtime, actor_at: ActorAt, body: str, says: str
) -> None:
    admin = actor_at("admin", "NEC")
    subject, _ = templates.default_template(KIND)
    with pytest.raises(InvalidInput, match=says):
        templates.save_template(demo_rt, admin, KIND, subject, body)
    with demo_rt.db.reading() as session:
        assert templates.template_for(session, KIND).body == templates.default_template(KIND)[1]


def test_ordinary_templates_still_render_loops_and_filters() -> None:
    subject, _ = templates.default_template(KIND)
    body = "{% for i in range(3) %}{{ title|upper|center(60) }}\n{% endfor %}{{ 'ab' * 3 }}"
    rendered = templates.preview(KIND, subject, body)
    assert rendered.body.count("\n") == 3 and rendered.body.endswith("ababab")


def test_the_render_clock_leaves_any_outer_tracer_in_place() -> None:
    import sys

    def outer(*_args: object) -> None:
        return None

    sys.settrace(outer)
    try:
        templates.preview(KIND, *templates.default_template(KIND))
        assert sys.gettrace() is outer
    finally:
        sys.settrace(None)
