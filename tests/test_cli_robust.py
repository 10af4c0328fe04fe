"""The command line fails fast, without a traceback, on outputs it could not write, and keeps a
scenario file's outputs below its folder."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import blankspot.scenario
from blankspot.cli import main
from blankspot.errors import DataError


@pytest.fixture
def no_compute(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("computed although the output folder is unusable")

    monkeypatch.setattr(blankspot.scenario, "run", refuse)


def _scenario(folder, out_dir):
    path = folder / "s.toml"
    path.write_text(f'name = "s"\n\n[outputs]\nout_dir = "{out_dir}"\n')
    return path


@pytest.mark.parametrize("out_dir", ["../../..", "~/.config/autostart", "/".join([".."] * 8),
                                     "."])
def test_scenario_out_dir_outside_its_folder_is_refused(tmp_path, no_compute, out_dir):
    folder = tmp_path / "a" / "b" / "c"
    folder.mkdir(parents=True)
    res = CliRunner().invoke(main, ["run", str(_scenario(folder, out_dir))])
    assert res.exit_code == 2, res.output
    assert "not below the scenario's folder" in res.output and "--out" in res.output
    assert "Traceback" not in res.output


def test_scenario_out_dir_below_its_folder_is_taken_from_the_file(tmp_path, monkeypatch):
    seen = {}

    def fake_run(spec, **kwargs):
        seen["out"] = spec.out_dir
        raise DataError("stop here")

    monkeypatch.setattr(blankspot.scenario, "run", fake_run)
    res = CliRunner().invoke(main, ["run", str(_scenario(tmp_path, "out/plan"))])
    assert res.exit_code == 3 and "stop here" in res.output
    assert seen["out"] == str(tmp_path / "out" / "plan")


def test_out_on_the_command_line_may_name_any_place(tmp_path, monkeypatch):
    called = []

    def fake_run(spec, **kwargs):
        called.append(1)
        raise DataError("stop here")

    monkeypatch.setattr(blankspot.scenario, "run", fake_run)

    folder = tmp_path / "a"
    folder.mkdir()
    res = CliRunner().invoke(main, ["run", str(_scenario(folder, "../..")), "--out",
                                    str(tmp_path / "elsewhere")])
    assert res.exit_code == 3 and called == [1]


@pytest.mark.parametrize("command", ["run", "demo"])
def test_output_folder_blocked_by_a_file_fails_before_computing(tmp_path, no_compute, command):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    args = ([command, str(_scenario(tmp_path, "out"))] if command == "run" else [command])
    res = CliRunner().invoke(main, [*args, "--out", str(blocker / "out")])
    assert res.exit_code == 2, res.output
    assert "is a file, not a folder" in res.output and "Traceback" not in res.output


def test_cache_folder_that_cannot_be_written_is_a_data_error(tmp_path):
    import numpy as np

    from blankspot.cache import check_cache_dir, write_entry
    from blankspot.errors import DataError

    blocker = tmp_path / "cache"
    blocker.write_text("x")
    with pytest.raises(DataError, match=r"cannot be written.*--cache-dir"):
        check_cache_dir(blocker)
    with pytest.raises(DataError, match=r"cannot be written.*--cache-dir"):
        write_entry(blocker, "ab" + "0" * 62, {"a": np.arange(3)})


def test_run_with_a_dem_without_crs_names_the_file_and_the_fix(tmp_path):
    import numpy as np
    import rasterio
    from affine import Affine

    with rasterio.open(tmp_path / "nocrs.tif", "w", driver="GTiff", width=50, height=50, count=1,
                       dtype="float32", transform=Affine(0.001, 0, 116.2, 0, -0.001, -2.2)) as dst:
        dst.write(np.full((1, 50, 50), 100, np.float32))
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[data]\ndem = "nocrs.tif"\n'
                        "bounds = [116.2, -2.25, 116.25, -2.2]\n")
    res = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "nocrs.tif declares no CRS" in res.output and "gdal_translate -a_srs" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "out").exists()


def test_read_only_output_folder_fails_before_computing(tmp_path, no_compute, monkeypatch):
    """A read-only folder (simulated: root may write anywhere) is refused before any computing."""
    import os

    import blankspot.io.outputs

    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(blankspot.io.outputs.os, "access",
                        lambda p, mode: False if os.fspath(p) == os.fspath(ro) else real(p, mode))
    res = CliRunner().invoke(main, ["run", str(_scenario(tmp_path, "out")), "--out",
                                    str(ro / "plan")])
    assert res.exit_code == 3, res.output
    assert "is not writable" in res.output and "Traceback" not in res.output


def test_cache_writes_remove_temporaries_of_dead_processes(tmp_path):
    import subprocess
    import sys

    import numpy as np

    from blankspot.cache import entry_path, read_entry, write_entry

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    key = "ab" + "0" * 62
    folder = entry_path(tmp_path, key).parent
    folder.mkdir(parents=True)
    stale = folder / f".{key[:16]}.tmp-{dead}-0123abcd"
    stale.write_bytes(b"half an entry")
    write_entry(tmp_path, key, {"a": np.arange(3)})
    assert not stale.exists()
    assert sorted(p.name for p in folder.iterdir()) == [f"{key}.npz"]
    assert read_entry(tmp_path, key)["a"].tolist() == [0, 1, 2]


def test_an_unforeseen_file_system_error_exits_3_without_traceback(tmp_path, monkeypatch):
    import errno

    def vanish(spec, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / "dem.tif"))

    monkeypatch.setattr(blankspot.scenario, "run", vanish)
    res = CliRunner().invoke(main, ["run", str(_scenario(tmp_path, "out"))])
    assert res.exit_code == 3, res.output
    assert "Input/output error" in res.output and "dem.tif" in res.output
    assert "Traceback" not in res.output


def test_read_only_cache_folder_is_a_data_error_when_the_store_opens(tmp_path, monkeypatch):
    import os

    import blankspot.cache
    from blankspot.cache import check_cache_dir

    real = os.access
    monkeypatch.setattr(blankspot.cache.os, "access",
                        lambda p, mode: False if "footprints" in os.fspath(p) else real(p, mode))
    with pytest.raises(DataError, match=r"cache .* cannot be written.*--cache-dir"):
        check_cache_dir(tmp_path / "cache")
