"""Playbook texts: plain ones come back as written, templated ones are rendered strictly."""

from __future__ import annotations

import pytest

from coach.templating import TemplateProblem, is_plain, render


def test_a_plain_text_comes_back_trimmed_without_needing_any_context() -> None:
    text = "\n您更看重哪一点？ Which matters more to you?\n"
    assert is_plain(text)
    assert render(text, {}) == "您更看重哪一点？ Which matters more to you?"


@pytest.mark.parametrize("source", ["{{ rep.name }}，您好", "{% if x %}是{% endif %}",
                                    "{# note #}好"])
def test_any_template_syntax_goes_through_jinja(source: str) -> None:
    assert not is_plain(source)
    assert render(source, {"rep": {"name": "王芳"}, "x": True}) in {"王芳，您好", "是", "好"}


def test_a_misspelt_name_is_an_error_not_a_half_rendered_message() -> None:
    with pytest.raises(TemplateProblem, match="rep_nmae"):
        render("{{ rep_nmae }}，您好", {"rep": {"name": "王芳"}})


def test_braces_that_are_not_template_syntax_are_left_as_they_are() -> None:
    assert render("剂量 {5 mg} 不变", {}) == "剂量 {5 mg} 不变"
