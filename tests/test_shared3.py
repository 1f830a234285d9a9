import secrets

import pytest

from dojo.testing import KataRaised


@pytest.fixture
def block_name():
    # Short (macOS allows 31 characters) and with the "psm_" prefix that host.shm() and
    # the leak guard watch; unique, so parallel runs never see each other's blocks.
    return "psm_dojo_" + secrets.token_hex(5)


def test_the_block_is_gone_once_the_squares_are_back(kata, mp_context, teach, host, block_name):
    got = kata.squares_in_shared_memory(mp_context, [2, 3, 4], block_name)
    assert got == [4, 9, 16], teach("wrong_squares", got=got, want=[4, 9, 16])
    assert block_name not in host.shm(), teach("block_left", name=block_name)


def test_the_block_is_gone_even_when_a_worker_fails(kata, mp_context, teach, host, block_name):
    # 2**32 squared does not fit in a 64-bit slot: that worker fails, and the kata raises.
    with pytest.raises(KataRaised):
        kata.squares_in_shared_memory(mp_context, [3, 2**32], block_name)
    assert block_name not in host.shm(), teach("block_left_on_error", name=block_name)
