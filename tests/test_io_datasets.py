"""The Paser registry, fetch (all-or-nothing, checksummed), paser_path and verify_paser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import blankspot.io as bio
from blankspot.errors import DataError
from blankspot.io import (
    DEMO_DEM_FILE,
    DESA_FILE,
    REGISTRY,
    embedded_path,
    fetch_paser,
    paser_path,
    sha256_file,
    verify_paser,
)
from blankspot.io.datasets import REGISTRY_TEXT, parse_registry

REPO_ROOT = Path(__file__).resolve().parents[1]


def _files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def paser_copy(paser_source_dir, tmp_path) -> Path:
    """A writable copy of the Paser source folder."""
    dst = tmp_path / "src"
    shutil.copytree(paser_source_dir, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


# --- registry -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["boundaries", "terrain"])
def test_repository_registry_files_match_packaged_registry(kind):
    text = (REPO_ROOT / "data" / kind / "registry.txt").read_text(encoding="utf-8")
    assert text == REGISTRY_TEXT[kind]
    assert parse_registry(text, kind) == {n: e for n, e in REGISTRY.items() if e.kind == kind}


def test_registry_contents():
    assert len(REGISTRY) == 12
    assert REGISTRY[DEMO_DEM_FILE].kind == "terrain"
    assert REGISTRY[DEMO_DEM_FILE].source == "terrain/paser_dem_demo_1s_synthetic.tif"
    assert REGISTRY[DEMO_DEM_FILE].licence.startswith("synthetic")
    assert REGISTRY[DESA_FILE].relpath == "boundaries/paser_desa.geojson"
    assert all(e.kind == "terrain" for e in REGISTRY.values() if e.name.endswith(".tif"))
    assert all(e.kind == "boundaries" for e in REGISTRY.values() if not e.name.endswith(".tif"))
    for text in REGISTRY_TEXT.values():
        assert text.splitlines()[0].startswith("#")


def test_registry_checksums_match_shared_data(paser_source_dir):
    for entry in REGISTRY.values():
        source = paser_source_dir / entry.source
        if not source.is_file():  # the 3 arc-second demo DEM exists only embedded
            source = embedded_path(entry.name)
        assert sha256_file(source) == entry.sha256, entry.name


def test_parse_registry_reports_every_bad_line():
    text = "# header\nonly three fields\nx.tif NOTHEX src MIT\nx.tif " + "a" * 64 + " s MIT\n"
    with pytest.raises(DataError) as info:
        parse_registry(text, "terrain")
    msg = str(info.value)
    assert "3 problems" in msg
    assert "line 2 has 3 fields" in msg
    assert "'NOTHEX' is not a lower-case hex SHA-256" in msg
    assert "registered twice" in msg


def test_public_names_resolve():
    for name in bio.__all__:
        assert getattr(bio, name) is not None
    with pytest.raises(AttributeError):
        _ = bio.no_such_name


# --- fetch ------------------------------------------------------------------------------------
def test_fetch_copies_and_verifies_then_skips(paser_source_dir, tmp_path):
    dest = tmp_path / "data"
    seen = []
    paths = fetch_paser(paser_source_dir, dest, progress=lambda n, s: seen.append((n, s)))
    assert len(paths) == len(REGISTRY)
    assert _files_under(dest) == sorted(e.relpath for e in REGISTRY.values())
    assert {s for _, s in seen} == {"copied"}
    assert all(v == "ok" for v in verify_paser(dest).values())
    assert paser_path(DEMO_DEM_FILE, dest) == dest / "terrain" / DEMO_DEM_FILE

    seen.clear()
    assert fetch_paser(paser_source_dir, dest, progress=lambda n, s: seen.append((n, s))) == paths
    assert {s for _, s in seen} == {"skipped"}


def test_fetch_respects_env_data_dir(paser_source_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BLANKSPOT_DATA_DIR", str(tmp_path / "env"))
    fetch_paser(paser_source_dir)
    assert (tmp_path / "env" / "boundaries" / DESA_FILE).is_file()
    assert paser_path(DESA_FILE).parent == tmp_path / "env" / "boundaries"


def test_fetch_corrupted_and_missing_sources_report_all_and_copy_nothing(paser_copy, tmp_path):
    dem = paser_copy / "terrain" / DEMO_DEM_FILE
    data = bytearray(dem.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dem.write_bytes(bytes(data))
    (paser_copy / "paser_dem_etopo5.tif").unlink()  # embedded: copied from blankspot's own copy
    (paser_copy / "paser_kecamatan.csv").write_text("tampered\n")
    (paser_copy / "paser_places_geonames.csv").write_text("tampered\n")
    dest = tmp_path / "data"
    with pytest.raises(DataError) as info:
        fetch_paser(paser_copy, dest)
    msg = str(info.value)
    assert "3 problems" in msg
    assert "terrain/paser_dem_demo_1s_synthetic.tif has SHA-256" in msg
    assert REGISTRY[DEMO_DEM_FILE].sha256 in msg
    assert "paser_places_geonames.csv has SHA-256" in msg
    assert "paser_kecamatan.csv has SHA-256" in msg
    assert "Nothing was copied" in msg
    # no temporary, partial or even verified file is left behind
    assert _files_under(dest) == []


def test_fetch_keeps_existing_files_when_it_fails(paser_source_dir, paser_copy, tmp_path):
    dest = tmp_path / "data"
    fetch_paser(paser_source_dir, dest)
    before = {p: sha256_file(dest / p) for p in _files_under(dest)}
    (dest / "boundaries" / DESA_FILE).unlink()
    (paser_copy / DESA_FILE).write_text("{}")
    with pytest.raises(DataError, match=r"paser_desa\.geojson has SHA-256"):
        fetch_paser(paser_copy, dest)
    after = {p: sha256_file(dest / p) for p in _files_under(dest)}
    assert after == {p: h for p, h in before.items() if not p.endswith(DESA_FILE)}


def test_fetch_replaces_a_changed_destination_file(paser_source_dir, tmp_path):
    dest = tmp_path / "data"
    fetch_paser(paser_source_dir, dest)
    (dest / "boundaries" / "SOURCES.md").write_text("edited")
    assert verify_paser(dest)["SOURCES.md"] == "mismatch"
    seen = {}
    fetch_paser(paser_source_dir, dest, progress=lambda n, s: seen.__setitem__(n, s))
    assert seen["SOURCES.md"] == "copied"
    assert verify_paser(dest)["SOURCES.md"] == "ok"


def test_fetch_from_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        fetch_paser(tmp_path / "nowhere", tmp_path / "data")


# --- paser_path / verify_paser --------------------------------------------------------------------
def test_paser_path_missing_says_how_to_fetch(tmp_path):
    with pytest.raises(DataError) as info:
        paser_path(DESA_FILE, tmp_path, embedded=False)
    msg = str(info.value)
    assert "Paser dataset not found" in msg
    assert "boundaries/paser_desa.geojson is missing" in msg
    assert "blankspot data fetch --from" in msg
    assert "BLANKSPOT_DATA_DIR" in msg
    assert isinstance(info.value, OSError)


def test_paser_path_unregistered_lists_registered_names(tmp_path):
    with pytest.raises(DataError, match=r"not a registered Paser file.*paser_desa\.geojson"):
        paser_path("roads.gpkg", tmp_path)


def test_paser_path_detects_a_changed_file(tmp_path):
    f = tmp_path / "boundaries" / "SOURCES.md"
    f.parent.mkdir()
    f.write_text("not the registered text")
    with pytest.raises(DataError, match="modified or is a different version"):
        paser_path("SOURCES.md", tmp_path)
    assert paser_path("SOURCES.md", tmp_path, verify=False) == f


def test_verify_paser_states(tmp_path):
    f = tmp_path / "boundaries" / "SOURCES.md"
    f.parent.mkdir()
    f.write_text("x")
    status = verify_paser(tmp_path)
    assert list(status) == list(REGISTRY)
    assert status["SOURCES.md"] == "mismatch"
    assert status[DESA_FILE] == "embedded"
    assert status[DEMO_DEM_FILE] == "missing"


def test_sha256_file(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"")
    assert sha256_file(p) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
