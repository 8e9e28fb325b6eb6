import pytest
import torch
import torch.nn.functional as F

from swiftvr_cli.model.attention import build_window_plan, window_block_mask, window_plan, window_starts, windowed_attention


@pytest.mark.parametrize(
    "size,window,shift,expected",
    [
        (8, 16, 0, [0]),  # smaller than a window: one dense window
        (16, 16, 8, [0]),
        (40, 16, 0, [0, 16, 24]),  # last window clamped inside the frame
        (40, 16, 8, [0, 8, 24]),
        (17, 16, 8, [0, 1]),
        (10, 4, 2, [0, 2, 6]),
        (12, 4, 0, [0, 4, 8]),
    ],
)
def test_window_starts(size, window, shift, expected):
    assert window_starts(size, window, shift) == expected


def test_middle_start_dropped_when_neighbours_cover_it():
    # raw starts -4, 4, 12 clamp to 0, 4, 6: windows at 0 and 6 already cover 0..13
    assert window_starts(14, 8, 4) == [0, 6]
    starts = window_starts(14, 8, 4)
    covered = set()
    for s in starts:
        covered |= set(range(s, s + 8))
    assert covered == set(range(14))


@pytest.mark.parametrize("grid", [(2, 7, 9), (3, 5, 5), (1, 12, 10), (2, 9, 4)])
@pytest.mark.parametrize("odd", [False, True])
def test_equals_dense_attention_with_block_mask(grid, odd):
    n = grid[0] * grid[1] * grid[2]
    q, k, v = (torch.randn(2, 3, n, 8, dtype=torch.float64) for _ in range(3))
    out = windowed_attention(q, k, v, window_plan(grid, (4, 4), odd, q.device))
    mask = window_block_mask(grid, (4, 4), odd)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.allclose(out, ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("odd", [False, True])
def test_single_window_is_full_attention(odd):
    grid = (3, 4, 4)
    n = 48
    q, k, v = (torch.randn(1, 2, n, 8, dtype=torch.float64) for _ in range(3))
    out = windowed_attention(q, k, v, window_plan(grid, (16, 16), odd, q.device))
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-10)


def test_every_token_owned_by_exactly_one_window_that_contains_it():
    plan = build_window_plan(2, 11, 13, (4, 4), True)
    owner = plan.scatter // plan.window_tokens
    slot = plan.scatter % plan.window_tokens
    tokens = torch.arange(2 * 11 * 13)
    assert torch.equal(plan.gather[owner, slot], tokens)


def test_owner_is_lowest_window_on_even_and_highest_on_odd_layers():
    # width 6, window 4: starts [0, 2]; column 2..3 lies in both windows
    even = build_window_plan(1, 4, 6, (4, 4), False)
    odd = build_window_plan(1, 4, 6, (4, 4), True)
    token = 2  # row 0, column 2
    assert (even.scatter[token] // even.window_tokens).item() == 0
    assert (odd.scatter[token] // odd.window_tokens).item() == odd.num_windows - 1
