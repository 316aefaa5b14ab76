"""Bad input from Python: typos get the nearest valid name, missing files are FileNotFoundError,
a raising evaluator is recorded (or stops the search, as configured)."""

import json

import pytest

import mcunet

mcunet.set_log_level("error")

SMALL = dict(board="stm32f412", population_size=8, generations=2, seed=11)


def test_board_typo_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown board 'stm32f764'; did you mean 'stm32f746'\?"):
        mcunet.board("stm32f764")
    with pytest.raises(ValueError, match=r"did you mean 'stm32h743'\?"):
        mcunet.cost(mcunet.data_path("tests", "data", "zoo", "mcunet-5fps_imagenet.json"), board="h734")
    with pytest.raises(ValueError) as e:
        mcunet.board("esp32")  # nothing close: no guess, but the list
    assert "did you mean" not in str(e.value) and "stm32f412" in str(e.value)


def test_planner_typo_suggests_the_closest(zoo_dir):
    with pytest.raises(ValueError, match=r"unknown planner 'tflite'"):
        mcunet.cost(zoo_dir / "mcunet-5fps_imagenet.json", planner="tflite")
    with pytest.raises(ValueError, match=r"did you mean 'tinyengine'\?"):
        mcunet.cost(zoo_dir / "mcunet-5fps_imagenet.json", planner="tinyengin")


def _config(space_path, **fields):
    return {"schema_version": 1, "kind": "evolution_config", "space": str(space_path), "subspace": "w0.5-r32",
            **fields}


def test_config_key_typos_name_the_nearest_key(root, small_space, tmp_path):
    space = root / "search_spaces" / "fmnist_small.json"
    with pytest.raises(ValueError, match=r"populaton_size: unknown field; did you mean 'population_size'\?"):
        mcunet.EvolutionConfig(_config(space, populaton_size=4))
    with pytest.raises(ValueError, match=r"generatons: unknown field; did you mean 'generations'\?"):
        mcunet.evolution_search(small_space, (0.5, 32), generatons=2)
    with pytest.raises(ValueError, match=r"constraints\.flash_kbs: unknown constraint; did you mean 'flash_kb'\?"):
        mcunet.EvolutionConfig(_config(space, constraints={"flash_kbs": 100}))
    with pytest.raises(ValueError, match=r"evaluator\.target_sed: .*did you mean 'target_seed'\?"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator={"kind": "synthetic", "target_sed": 1}, **SMALL)
    with pytest.raises(ValueError, match=r"did you mean 'table'\?"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator={"kind": "tabel"}, **SMALL)
    # The same message from a file names the file.
    cfg = tmp_path / "search.json"
    cfg.write_text(json.dumps(_config(space, mutation_prob=0.2)))
    with pytest.raises(ValueError, match=r"search\.json: mutation_prob: unknown field; did you mean 'mutate_prob'\?"):
        mcunet.EvolutionConfig.load(cfg)
    # Nothing close: the known keys, no guess.
    with pytest.raises(ValueError) as e:
        mcunet.EvolutionConfig(_config(space, colour="red"))
    assert "did you mean" not in str(e.value) and "population_size" in str(e.value)


def test_bad_paths_are_file_not_found(tmp_path, small_space):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        mcunet.EvolutionConfig.load(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError, match="myboard.json"):
        mcunet.board(str(tmp_path / "myboard.json"))
    with pytest.raises(FileNotFoundError, match="cal.json"):
        mcunet.LatencyModel.load(tmp_path / "cal.json")
    with pytest.raises(FileNotFoundError, match="missing-space.json"):
        mcunet.EvolutionSearch(_config(tmp_path / "missing-space.json"))
    with pytest.raises(FileNotFoundError):
        mcunet.data_path("no", "such", "file")


def _flaky(archs):
    out = []
    for a in archs:
        if int(mcunet.arch_hash(a), 16) % 3 == 0:
            raise RuntimeError(f"GPU fell over on {mcunet.arch_hash(a)}")
        out.append(mcunet.count(a).macs / 1e6)
    return out


def test_raising_evaluator_is_recorded_and_the_search_goes_on(small_space, tmp_path):
    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=_flaky, out_dir=tmp_path / "run", **SMALL)
    assert s.done and s.config.on_evaluator_error == "continue"
    failed = [c for c in s.history if c.failed]
    assert failed and len(failed) < len(s.history)
    assert all("RuntimeError: GPU fell over on" in c.error for c in failed)
    assert not s.best().failed
    # The message is kept in the results on disk.
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    errors = [c["error"] for c in history["candidates"] if c["failed"]]
    assert errors and all("GPU fell over" in e for e in errors)


def test_on_evaluator_error_stop_in_the_config(root, small_space):
    space = root / "search_spaces" / "fmnist_small.json"
    cfg = mcunet.EvolutionConfig(_config(space, on_evaluator_error="stop", population_size=8, generations=2,
                                         board="stm32f412", seed=11))
    assert cfg.on_evaluator_error == "stop" and cfg.to_dict()["on_evaluator_error"] == "stop"
    with pytest.raises(RuntimeError, match="GPU fell over"):
        mcunet.EvolutionSearch(cfg, evaluator=_flaky).run()
    # on_error= overrides the config, both ways, with either spelling.
    s = mcunet.EvolutionSearch(cfg, evaluator=_flaky, on_error="continue")
    s.run()
    assert s.done and any(c.failed for c in s.history)
    with pytest.raises(RuntimeError, match="GPU fell over"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator=_flaky, on_error="stop", **SMALL)
    with pytest.raises(RuntimeError, match="GPU fell over"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator=_flaky, on_evaluator_error="stop", **SMALL)
    with pytest.raises(ValueError, match=r"on_evaluator_error: expected \"continue\" or \"stop\""):
        mcunet.EvolutionConfig(_config(space, on_evaluator_error="halt"))


def test_builtin_evaluator_failures_stop_when_configured(small_space):
    spec = {"kind": "synthetic", "target_seed": 3, "throw_fraction": 0.5}
    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=spec, **SMALL)
    assert any("injected failure" in c.error for c in s.history if c.failed)
    with pytest.raises(RuntimeError, match="on_evaluator_error.*injected failure"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator=spec, on_evaluator_error="stop", **SMALL)


def test_space_and_board_file_typos_name_the_nearest_key(small_space):
    d = small_space.to_dict()
    d["widht_multipliers"] = d.pop("width_multipliers")
    with pytest.raises(ValueError, match=r"my_space\.json: widht_multipliers: unknown field; "
                                         r"did you mean 'width_multipliers'\?"):
        mcunet.SearchSpace.from_dict(d, "my_space.json")
    d = small_space.to_dict()
    d["stages"][1]["kernel_size"] = [3]
    with pytest.raises(ValueError, match=r"stages\[1\]\.kernel_size: unknown field; did you mean 'kernel_sizes'\?"):
        mcunet.SearchSpace.from_dict(d)
    b = mcunet.board("stm32f746").to_dict()
    b["clock_mhzz"] = 216
    with pytest.raises(ValueError, match=r"clock_mhzz: unknown field; did you mean 'clock_mhz'\?"):
        mcunet.Board.from_dict(b, "myboard.json")
    # What the shipped files and to_dict() hold is accepted.
    for name in mcunet.search_space_names():
        space = mcunet.search_space(name)
        assert mcunet.SearchSpace.from_dict(space.to_dict()).to_dict() == space.to_dict()
    for board in mcunet.boards():
        assert mcunet.Board.from_dict(board.to_dict()) == board
