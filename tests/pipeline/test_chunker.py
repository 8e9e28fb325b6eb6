import pytest

from swiftvr_cli.model.swiftvr import ChunkKind
from swiftvr_cli.pipeline.chunker import Chunker, chunk_all, padded_length

CLIP = 24


@pytest.mark.parametrize("length", [1, 2, 5, 27, 28, 29, 30, 53, 100])
def test_every_frame_comes_back_once_in_order(length):
    chunks = list(chunk_all(range(length), CLIP))
    real = [i for c in chunks for i in c.real_items]
    assert real == list(range(length))
    assert sum(len(c.items) for c in chunks) == padded_length(length)


@pytest.mark.parametrize("length", [1, 2, 5, 28, 29, 53, 100])
def test_chunk_sizes_follow_the_protocol(length):
    chunks = list(chunk_all(range(length), CLIP))
    kinds = [c.kind for c in chunks]
    assert kinds[-1] is ChunkKind.LAST and kinds.count(ChunkKind.LAST) == 1
    if len(chunks) > 1:
        assert kinds[0] is ChunkKind.FIRST and len(chunks[0].items) == CLIP + 4
        assert all(len(c.items) == CLIP for c in chunks[1:-1])
    last = len(chunks[-1].items)
    assert last % 4 == 1 and last <= (CLIP + 4 if len(chunks) == 1 else CLIP)


def test_release_lengths_need_no_padding():
    # 4k+1 frames: exactly the release's chunks, no padding anywhere
    chunks = list(chunk_all(range(53), CLIP))
    assert [(c.kind, len(c.items), c.padding) for c in chunks] == [
        (ChunkKind.FIRST, 28, 0), (ChunkKind.MIDDLE, 24, 0), (ChunkKind.LAST, 1, 0)
    ]


def test_padding_repeats_the_last_real_frame():
    chunks = list(chunk_all(range(27), CLIP))
    assert chunks[0].items[-1] == 26 and chunks[0].padding == 1
    assert chunks[-1].items == [26] and chunks[-1].padding == 1


def test_streaming_holds_at_most_one_chunk():
    chunker = Chunker(8)
    held = 0
    for i in range(200):
        chunker.push(i)
        held = max(held, len(chunker.buffer))
    assert held <= 8 + 4 + 1


def test_rejects_bad_chunk_size():
    with pytest.raises(ValueError, match="multiple of 4"):
        Chunker(10)
