"""The command line's options are scenario keys: `blankspot demo` is `run` of the default
scenario with its options as --set, so each option must name a key the scenario knows."""

from __future__ import annotations

from blankspot.cli import DEMO_OPTION_KEYS, demo
from blankspot.config import TARGET_KEYWORDS
from blankspot.demand import BLANKSPOT_FLAGS
from blankspot.scenario import scenario_keys


def test_every_demo_option_is_a_scenario_key():
    keys = set(scenario_keys().index)
    assert set(DEMO_OPTION_KEYS) <= keys


def test_every_demo_option_is_accounted_for():
    """Each click option either sets a scenario key or is about the run, not the plan."""
    about_the_run = {"out_dir", "scheduler", "cache_dir", "lang"}
    renamed = {"radius_km": "radius_m", "sites_path": "sites", "existing_path": "existing",
               "clutter_class": "clutter", "res_m": "terrain_res_m",
               "no_generated": "generate_candidates", "coverage_mode": "coverage"}
    names = {p.name for p in demo.params}
    as_keys = {renamed.get(n, n) for n in names - about_the_run}
    assert as_keys == set(DEMO_OPTION_KEYS)


def test_target_keywords_are_the_demand_flags():
    assert set(BLANKSPOT_FLAGS) < set(TARGET_KEYWORDS)
    assert {"blankspot", "all"} < set(TARGET_KEYWORDS)
