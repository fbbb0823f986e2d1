"""Bodies keep a small allow-list of tags: scripts, event attributes, styles and
``javascript:`` links never reach a reader."""

from __future__ import annotations

from news.html import safe_body, sanitize_body


def test_it_strips_scripts_with_their_content():
    clean = sanitize_body("<p>通知</p><script>alert('x')</script><style>p{}</style>")
    assert clean == "<p>通知</p>"


def test_it_strips_event_and_style_attributes():
    clean = sanitize_body(
        '<p onclick="steal()" style="color:red">点我</p><img src=x onerror="steal()">'
    )
    assert clean == "<p>点我</p>"
    assert "onerror" not in clean and "img" not in clean


def test_it_drops_javascript_and_data_links_and_marks_the_others():
    clean = sanitize_body(
        '<a href="javascript:alert(1)">坏</a> <a href="data:text/html,x">坏</a> '
        '<a href="https://example.org/" target="_blank">好</a>'
    )
    assert "javascript" not in clean and "data:" not in clean
    assert '<a href="https://example.org/" rel="noopener noreferrer">好</a>' in clean
    assert "target" not in clean


def test_it_keeps_the_allowed_tags():
    html = (
        "<h2>标题</h2><h3>小标题</h3><p>一<br>二 <strong>重</strong> <em>斜</em></p>"
        "<ul><li>甲</li></ul><ol><li>乙</li></ol><blockquote>引</blockquote>"
    )
    assert sanitize_body(html) == html


def test_it_removes_other_tags_but_keeps_their_text():
    assert sanitize_body("<div><span>文字</span><iframe src=x></iframe></div>") == "文字"


def test_it_turns_plain_text_into_escaped_paragraphs():
    assert sanitize_body("第一段\n第二行\n\n第二段 a & b") == (
        "<p>第一段<br>第二行</p>\n\n<p>第二段 a &amp; b</p>"
    )


def test_it_sanitizes_again_at_render():
    assert str(safe_body("<p>好</p><script>x()</script>")) == "<p>好</p>"
