"""Progress of the long operations: a tqdm bar when asked (or on a terminal), a callable, or nothing."""

import pytest

import mcunet

mcunet.set_log_level("error")

SMALL = dict(board="stm32f412", population_size=8, generations=2, seed=11)


def test_sweep_progress_callable_and_bar(small_space, capsys):
    calls = []
    r1 = mcunet.sweep(small_space, samples=5, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert all(d <= t for d, t in calls)
    capsys.readouterr()
    r2 = mcunet.sweep(small_space, samples=5, progress=False)
    assert capsys.readouterr().err == ""
    assert r2.to_dict() == r1.to_dict()  # progress does not change the result
    pytest.importorskip("tqdm")
    r3 = mcunet.sweep(small_space, samples=5, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "100%" in err
    assert r3.to_dict() == r1.to_dict()


def test_evolution_progress_bar_counts_generations(small_space, capsys):
    seen = []
    s1 = mcunet.evolution_search(small_space, (0.5, 32), progress=seen.append, **SMALL)
    assert [st.generation for st in seen] == [0, 1, 2]
    capsys.readouterr()
    pytest.importorskip("tqdm")
    s2 = mcunet.evolution_search(small_space, (0.5, 32), progress=True, **SMALL)
    err = capsys.readouterr().err
    assert "evolution" in err and "3/3" in err
    assert [c.genes for c in s2.history] == [c.genes for c in s1.history]


def test_default_is_silent_off_a_terminal(small_space, capsys):
    mcunet.sweep(small_space, samples=3)
    mcunet.evolution_search(small_space, (0.5, 32), **SMALL)
    assert capsys.readouterr().err == ""


def test_bad_progress_value(small_space):
    with pytest.raises(ValueError, match="progress"):
        mcunet.sweep(small_space, samples=3, progress="loud")
