"""The scenario commands: ``blankspot run``, ``blankspot rank`` and ``blankspot map``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from blankspot.cli import main
from blankspot.errors import SchemaError
from paser_window import SEGENDANG, WINDOW

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_TOML = REPO_ROOT / "scenarios" / "paser-demo.toml"

SMALL_SETS = ["--set", f"bounds={list(WINDOW)}", "--set", f'targets=["{SEGENDANG}"]',
              "--set", "radius_m=8000.0"]


@pytest.fixture(scope="module")
def cli_cache(tmp_path_factory) -> str:
    """One footprint cache for the module: the small scenario's propagation runs once."""
    return str(tmp_path_factory.mktemp("cli-cache"))


def _small_scenario(path: Path, data_dir: Path, **extra: str) -> Path:
    siting = {"n_high_points": "8", "grid_spacing_m": "3000.0", "certify": "false",
              "stability_threshold_db": '"none"', **extra}
    path.write_text(
        'name = "small"\n'
        f"[data]\ndata_dir = {json.dumps(str(data_dir))}\nbounds = {list(WINDOW)}\n"
        "[radio]\nradius_m = 8000.0\n"
        f'[demand]\ntargets = ["{SEGENDANG}"]\n'
        "[siting]\n" + "".join(f"{k} = {v}\n" for k, v in siting.items())
    )
    return path


def test_help_texts_name_the_options():
    runner = CliRunner()
    for command, words in (("run", ["--out", "--set", "--cache-dir", "provenance.json"]),
                           ("rank", ["--set", "--out", "Paser demo"]),
                           ("map", ["--out", "output folder", "nothing is recomputed"])):
        res = runner.invoke(main, [command, "--help"])
        assert res.exit_code == 0, res.output
        for word in words:
            assert word in res.output, (command, word)


@pytest.mark.paser
@pytest.mark.slow
def test_run_of_the_demo_file_reproduces_the_demo(paser_data_dir, tmp_path, cli_cache):
    runner = CliRunner()
    run_out, demo_out = tmp_path / "run", tmp_path / "demo"
    # the exact-solver certificate and the stability check do not change the ranking: skipped
    # here to halve the time (the demo cannot skip them)
    res = runner.invoke(main, ["--quiet", "run", str(DEMO_TOML), "--out", str(run_out),
                               "--set", f"data_dir={json.dumps(str(paser_data_dir))}", *SMALL_SETS,
                               "--set", "certify=false", "--set", "stability_threshold_db=none",
                               "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    assert res.output == ""  # --quiet
    res = runner.invoke(main, ["--quiet", "demo", "--out", str(demo_out), "--data-dir",
                               str(paser_data_dir), "--bounds", *map(str, WINDOW),
                               "--targets", SEGENDANG, "--radius-km", "8", "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    ran = pd.read_csv(run_out / "ranking.csv", dtype={"site_id": str})
    demo = pd.read_csv(demo_out / "ranking.csv", dtype={"site_id": str})
    pd.testing.assert_frame_equal(ran, demo)
    s_run = json.loads((run_out / "summary.json").read_text())
    s_demo = json.loads((demo_out / "summary.json").read_text())
    for key in ("towers", "total_cost_idr", "people_covered", "model", "threshold_dbm",
                "people_in_target_desa_not_yet_served"):
        assert s_run[key] == s_demo[key], key
    assert (run_out / "scenario.toml").is_file() and (run_out / "provenance.json").is_file()


@pytest.mark.paser
def test_run_writes_outputs_and_prints_the_plan(paser_data_dir, tmp_path, cli_cache):
    scenario = _small_scenario(tmp_path / "s.toml", paser_data_dir)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(scenario), "--out", str(out), "--cache-dir",
                                    cli_cache, "--set", "budget_idr=3_400_000_000"])
    assert res.exit_code == 0, res.output
    assert "scenario small" in res.output and "SYNTHETIC" in res.output
    assert "wrote" in res.output and "provenance.json" in res.output
    ranking = pd.read_csv(out / "ranking.csv")
    assert ranking["cost_idr"].sum() <= 3_400_000_000
    resolved = (out / "scenario.toml").read_text()
    assert "budget_idr = 3_400_000_000" in resolved
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["input_files"]["scenario"]["path"] == str(scenario)
    assert prov["footprint_cache"]["folder"] == cli_cache


def test_run_reports_every_problem_of_a_bad_scenario_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[radio]\nheight_agl_m = "tall"\ntreshold_dbm = -110\n[costs]\nbudget_idr = 8.5e9\n')
    res = CliRunner().invoke(main, ["run", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "3 problems found" in res.output
    assert "did you mean 'threshold_dbm'" in res.output and "received 'tall' (str)" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
    # --debug lets the exception through
    res = CliRunner().invoke(main, ["--debug", "run", str(bad), "--out", str(tmp_path / "o")])
    assert isinstance(res.exception, SchemaError)


def test_run_with_a_bad_override_or_no_output_folder_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(main, ["run", str(DEMO_TOML), "--out", str(tmp_path / "o"),
                                    "--set", "budjet_idr=1"])
    assert res.exit_code == 2 and "did you mean 'budget_idr'" in res.output
    res = CliRunner().invoke(main, ["run", str(DEMO_TOML)])
    assert res.exit_code == 2 and "--out" in res.output
    res = CliRunner().invoke(main, ["run", str(tmp_path / "missing.toml"), "--out", "o"])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_run_with_damaged_data_exits_3_and_says_how_to_get_it(tmp_path):
    # an empty data directory runs on the embedded data; a damaged file there is an error
    (tmp_path / "boundaries").mkdir()
    (tmp_path / "boundaries" / "paser_desa.geojson").write_text("{}")
    res = CliRunner().invoke(main, ["run", str(DEMO_TOML), "--out", str(tmp_path / "o"),
                                    "--set", f"data_dir={json.dumps(str(tmp_path))}"])
    assert res.exit_code == 3
    assert "blankspot data fetch" in res.output and "Traceback" not in res.output


@pytest.mark.paser
def test_rank_prints_and_writes_the_ranking(paser_data_dir, tmp_path, cli_cache):
    scenario = _small_scenario(tmp_path / "s.toml", paser_data_dir)
    csv = tmp_path / "ranking.csv"
    res = CliRunner().invoke(main, ["rank", str(scenario), "--out", str(csv), "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    ranking = pd.read_csv(csv, dtype={"site_id": str})
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    assert ranking["site_id"].iloc[0] in res.output and "people newly covered" in res.output
    # the demo, made small with --set; --quiet prints nothing
    res = CliRunner().invoke(main, ["--quiet", "rank", "--data-dir", str(paser_data_dir),
                                    *SMALL_SETS, "--set", "n_high_points=8",
                                    "--set", "grid_spacing_m=3000.0", "--out", str(csv),
                                    "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    assert res.output == ""
    pd.testing.assert_frame_equal(pd.read_csv(csv, dtype={"site_id": str}), ranking)


@pytest.mark.paser
def test_map_for_a_scenario_and_again_for_its_output_folder(paser_data_dir, tmp_path, cli_cache):
    scenario = _small_scenario(tmp_path / "s.toml", paser_data_dir)
    page = tmp_path / "m" / "scenario-map.html"
    res = CliRunner().invoke(main, ["--quiet", "map", str(scenario), "--out", str(page),
                                    "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert "SYNTHETIC" in html and "Chosen towers, ranked" in html

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["--quiet", "run", str(scenario), "--out", str(out),
                                    "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    (out / "map.html").unlink()
    res = CliRunner().invoke(main, ["map", str(out), "--data-dir", str(paser_data_dir)])
    assert res.exit_code == 0, res.output
    redrawn = (out / "map.html").read_text(encoding="utf-8")
    first = pd.read_csv(out / "ranking.csv", dtype={"site_id": str})["site_id"].iloc[0]
    assert first in redrawn and "SYNTHETIC" in redrawn
    # a folder that holds no plan
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(main, ["map", str(empty)])
    assert res.exit_code == 3 and "ranking.csv is missing" in res.output


@pytest.mark.paser
def test_run_writes_indonesian_tables_from_the_scenario_or_the_flag(paser_data_dir, tmp_path,
                                                                   cli_cache):
    scenario = _small_scenario(tmp_path / "small.toml", paser_data_dir)
    scenario.write_text(scenario.read_text() + '[outputs]\nlang = "id"\n')
    runner = CliRunner()
    out_id, out_en = tmp_path / "id", tmp_path / "en"
    res = runner.invoke(main, ["--quiet", "run", str(scenario), "--out", str(out_id),
                               "--cache-dir", cli_cache])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["--quiet", "run", str(scenario), "--out", str(out_en),
                               "--cache-dir", cli_cache, "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "kode_desa" in pd.read_csv(out_id / "desa.csv").columns
    assert "kode_desa" not in pd.read_csv(out_en / "desa.csv").columns
    assert 'lang = "id"' in (out_id / "scenario.toml").read_text()
