"""Decoder paths (noxjax/_checkpoint/_keypath.py): linked, rendered on demand."""

from __future__ import annotations

from noxjax._checkpoint._keypath import ROOT, Path


def test_paths_render_as_keystr_and_the_root_is_empty() -> None:
    path = ROOT + ".layers" + "[0]" + "['w']"
    assert path.full() == str(path) == ".layers[0]['w']"
    assert not ROOT and bool(path) and ROOT.full() == "" and isinstance(path, Path)
    assert (ROOT + ".a").parent is ROOT


def test_long_paths_are_shortened_in_the_middle_but_kept_whole_for_the_file() -> None:
    key = "[" + "a" * 500 + "b" * 500 + "]"
    path = ROOT + ".x" + key
    assert path.full() == ".x" + key
    # the long part is cut to its first and last 200 characters, then the whole path again
    assert str(path) == ".x[" + "a" * 197 + "..." + "b" * 199 + "]"
    assert str(ROOT + key) == "[" + "a" * 199 + "..." + "b" * 199 + "]"
    many = ROOT
    for _ in range(300):
        many = many + ".abc"
    rendered = str(many)
    assert rendered == ".abc" * 50 + "..." + ".abc" * 50
