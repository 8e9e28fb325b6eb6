"""Which files a batch sees, where their outputs go, and how --shard splits them."""

from __future__ import annotations

import pytest

from swiftvr_cli.batch.discover import discover, output_rel, parse_globs
from swiftvr_cli.batch.shard import Shard, parse_shard, shard_of
from tests.batch.helpers import batch


def touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_mirrors_tree_keeps_names_and_skips_hidden_and_output(tmp_path):
    src = tmp_path / "in"
    touch(src, "a.mp4", "B.MKV", "notes.txt", ".hidden.mp4", ".x.swiftvr-tmp-1.mp4", "d/c.mov", ".cache/e.mp4", "out/old.mp4")
    jobs = discover(str(src), str(src / "out"), parse_globs("*.mp4,*.mkv,*.mov"), recursive=True, suffix="_x4", ext="mkv")
    assert [(j.rel, j.rel_output) for j in jobs] == [("B.MKV", "B_x4.mkv"), ("a.mp4", "a_x4.mkv"), ("d/c.mov", "d/c_x4.mkv")]
    assert jobs[2].target == str((src / "out" / "d" / "c_x4.mkv").resolve())
    flat = discover(str(src), str(tmp_path / "o"), parse_globs("*.mp4,*.mkv,*.mov"))
    assert [j.rel for j in flat] == ["B.MKV", "a.mp4"]  # not recursive: sub-folders are not walked


def test_two_inputs_for_one_output_is_a_conflict(tmp_path):
    touch(tmp_path / "in", "a.mp4", "a.mov")
    jobs = discover(str(tmp_path / "in"), str(tmp_path / "out"), ["*"], ext=".mkv")
    assert [(j.rel, j.conflict) for j in jobs] == [("a.mov", None), ("a.mp4", "a.mov")]


def test_output_name():
    assert output_rel("x/clip.mp4") == "x/clip.mp4"
    assert output_rel("x/clip.v2.mp4", "_x4", "mkv") == "x/clip.v2_x4.mkv"


def test_shards_partition_exactly_and_are_stable():
    names = [f"dir{i % 7}/video{i}.mp4" for i in range(500)]
    for n in (1, 2, 3, 8):
        parts = [{x for x in names if Shard(i, n).owns(x)} for i in range(n)]
        assert set().union(*parts) == set(names)
        assert sum(len(p) for p in parts) == len(names)  # pairwise disjoint
        assert all(parts)  # every shard gets work
        again = [{x for x in names if Shard(i, n).owns(x)} for i in range(n)]
        assert parts == again
    # stable across runs, machines and Python versions: sha1 of the relative path, pinned
    assert [shard_of(x, 4) for x in ("a.mp4", "b/c.mkv", "video1.mp4")] == [0, 1, 0]


@pytest.mark.parametrize("text", ["4/4", "1/0", "-1/3", "a/b", "3", "1/2/3"])
def test_bad_shard_is_a_usage_error(tmp_path, fast_weights, text):
    with pytest.raises(ValueError):
        parse_shard(text)
    (tmp_path / "in").mkdir()
    code, _, stderr = batch(tmp_path / "in", tmp_path / "out", fast_weights, "--shard", text)
    assert code == 2 and "--shard" in stderr


def test_shard_parsing():
    assert parse_shard("0/1") == Shard(0, 1) and parse_shard("3/4") == Shard(3, 4)


def test_missing_input_folder_and_same_folder(tmp_path, fast_weights):
    code, _, stderr = batch(tmp_path / "nope", tmp_path / "out", fast_weights)
    assert code == 3 and "folder not found" in stderr
    (tmp_path / "in").mkdir()
    code, _, stderr = batch(tmp_path / "in", tmp_path / "in", fast_weights)
    assert code == 2 and "OUT_DIR must differ" in stderr
