"""An output folder is committed as a set: a failed or interrupted run leaves the previous set."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import blankspot.io.outputs as io_outputs
from blankspot.errors import BlankspotError, DataError, InputError
from blankspot.io.outputs import check_output_dir, output_set, remove_stale_temporaries
from blankspot.reporting.outputs import OUTPUT_FILES, write_outputs

EXTRA = {"scenario.toml": "name = 'x'\n", "provenance.json": "{}"}



def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def previous_set(small_plan, tmp_path_factory):
    """A complete output set of the small plan, written once; tests copy it."""
    out = tmp_path_factory.mktemp("previous") / "out"
    write_outputs(small_plan, out, extra_text=EXTRA)
    return out


@pytest.fixture
def out(previous_set, tmp_path):
    target = tmp_path / "out"
    shutil.copytree(previous_set, target)
    return target


def _no_leftovers(folder):
    hidden = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    hidden += [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert hidden == []


def test_previous_set_holds_every_output(previous_set, small_plan):
    names = {p.name for p in previous_set.iterdir()}
    expected = set(OUTPUT_FILES)
    if small_plan.stability is None:
        expected.discard("stability.csv")
    if small_plan.curve is None:
        expected.discard("curve.csv")
    if not small_plan.profiles_png:
        expected.discard("profiles")
    assert small_plan.hindcast is not None and small_plan.why_not is not None
    assert names == expected


@pytest.mark.parametrize("name", OUTPUT_FILES)
def test_failure_at_any_file_keeps_the_previous_set(small_plan, out, monkeypatch, name):
    """Fault injection: the writer of ``name`` fails (disk full); nothing of the new set shows."""
    before = _digest(out)
    real = io_outputs.check_written

    def failing(tmp, final=None, **kwargs):
        if final is not None and os.path.basename(final) == name:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
        return real(tmp, final, **kwargs)

    monkeypatch.setattr(io_outputs, "check_written", failing)
    if name not in before:
        pytest.skip(f"{name} is not written by this plan")
    with pytest.raises(DataError, match=rf"{name} failed.*No space left"):
        write_outputs(small_plan, out, extra_text=EXTRA)
    assert _digest(out) == before
    _no_leftovers(out)


def test_zero_byte_raster_is_refused_and_previous_set_kept(small_plan, out, monkeypatch):
    """GDAL reports a full disk only on close; a 0-byte COG must not replace the good one."""
    import rasterio.shutil

    before = _digest(out)

    def empty_copy(src, dst, **kwargs):
        open(dst, "wb").close()

    monkeypatch.setattr(rasterio.shutil, "copy", empty_copy)
    with pytest.raises(DataError, match=r"coverage_rsrp_dbm\.cog\.tif.*0 bytes.*free space"):
        write_outputs(small_plan, out)
    assert _digest(out) == before
    _no_leftovers(out)


def test_csv_writer_failing_mid_stream_keeps_the_previous_set(small_plan, out, monkeypatch):
    before = _digest(out)
    real = pd.DataFrame.to_csv

    def half(self, path, *args, **kwargs):
        if "kecamatan" in os.fspath(path):
            with open(path, "w") as f:
                f.write("kode,na")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", half)
    with pytest.raises(OSError):
        write_outputs(small_plan, out)
    assert _digest(out) == before


def test_check_written_refuses_truncated_rasters_and_workbooks(tmp_path, previous_set):
    for name in ("coverage.tif", "report.xlsx", "plan.gpkg"):
        data = (previous_set / name).read_bytes()
        bad = tmp_path / f".{name}.tmp-1-abcdef01{os.path.splitext(name)[1]}"
        bad.write_bytes(data[: len(data) // 3])
        with pytest.raises(DataError, match=f"writing .*{name} failed"):
            io_outputs.check_written(bad, tmp_path / name)
        io_outputs.check_written(previous_set / name)


def test_new_set_removes_outputs_the_run_no_longer_writes(small_plan, out):
    """A run without stability runs leaves no stale stability.csv beside its outputs."""
    (out / "stability.csv").write_text("site_id\nstale\n")
    (out / "notes.txt").write_text("mine")
    import dataclasses

    plan = dataclasses.replace(small_plan, stability=None)
    write_outputs(plan, out)
    names = {p.name for p in out.iterdir()}
    assert "stability.csv" not in names
    assert (out / "notes.txt").read_text() == "mine"  # a file blankspot did not write is kept
    _no_leftovers(out)


def test_output_set_restores_nothing_half_done_on_interrupt(tmp_path):
    out = tmp_path / "o"
    with output_set(out) as stage:
        (stage / "a.txt").write_text("one")
    with pytest.raises(KeyboardInterrupt), output_set(out) as stage:
        (stage / "a.txt").write_text("two")
        raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "one"
    _no_leftovers(out)


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    stale = tmp_path / f".coverage.tif.tmp-{dead}-0123abcd.tif"
    stale.write_bytes(b"half")
    stale_dir = tmp_path / f".out.staging-{dead}-0123abcd"
    stale_dir.mkdir()
    live = tmp_path / f".map.html.tmp-{os.getpid()}-0123abcd.html"
    live.write_text("being written")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted([stale.name, stale_dir.name])
    assert live.exists()


def test_check_output_dir_refuses_a_file_in_the_path(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_dir(blocker / "out")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_dir(blocker)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_output_dir_refuses_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(DataError, match="not writable"):
            check_output_dir(ro / "out")
        with pytest.raises(BlankspotError, match="not writable"):
            with output_set(ro / "out"):
                pass
    finally:
        ro.chmod(0o700)


def test_output_set_refuses_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="current folder"), output_set(tmp_path):
        pass


def _checksums_hold(folder):
    import json

    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    wrong = [e["file"] for e in meta["keluaran"]
             if hashlib.sha256((folder / e["file"]).read_bytes()).hexdigest() != e["sha256"]]
    return wrong


def test_map_redrawn_in_an_output_folder_updates_the_metadata(out, paser_data_dir):
    from click.testing import CliRunner

    from blankspot.cli import main

    assert _checksums_hold(out) == []
    (out / "map.html").write_text("<html>tampered</html>")  # any change of the map
    res = CliRunner().invoke(main, ["--quiet", "map", str(out), "--data-dir", str(paser_data_dir)])
    assert res.exit_code == 0, res.output
    assert "tampered" not in (out / "map.html").read_text()
    assert _checksums_hold(out) == []


@pytest.mark.parametrize(("name", "content"), [
    ("ranking.csv", b"site_id,rank,lon,lat\nx,first,abc,\n"),
    ("ranking.csv", b"\xff\xfe\x00garbage"),
    ("coverage.tif", b""),
    ("summary.json", b"{not json"),
    ("desa.csv", b""),
])
def test_map_of_a_damaged_output_folder_is_a_data_error(out, paser_data_dir, name, content):
    from click.testing import CliRunner

    from blankspot.cli import main

    (out / name).write_bytes(content)
    res = CliRunner().invoke(main, ["map", str(out), "--data-dir", str(paser_data_dir)])
    assert res.exit_code == 3, res.output
    assert name in res.output and "write the outputs again" in res.output
    assert "Traceback" not in res.output


def test_sigterm_while_writing_leaves_the_previous_set_and_no_temporary(tmp_path):
    import signal
    import textwrap

    out = tmp_path / "out"
    out.mkdir()
    (out / "ranking.csv").write_text("old")
    script = textwrap.dedent(f"""
        import sys, time
        from blankspot.cli import handle_sigterm
        from blankspot.io.outputs import atomic_path, output_set
        handle_sigterm()
        with output_set({str(out)!r}) as stage:
            with atomic_path(stage / "ranking.csv") as tmp:
                tmp.write_text("half")
                print("ready", flush=True)
                time.sleep(60)
        """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode != 0
    assert (out / "ranking.csv").read_text() == "old"
    _no_leftovers(out)


@pytest.fixture
def small_tmpfs(tmp_path, previous_set):
    """A tmpfs with room for the previous set and half of another (needs root and mount)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    pages = sum(-(-p.stat().st_size // 4096) for p in previous_set.iterdir())
    size_kb = int(pages * 4 * 1.5) + 64
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_disk_keeps_the_previous_set(small_plan, previous_set, small_tmpfs):
    out = small_tmpfs / "out"
    shutil.copytree(previous_set, out)
    before = _digest(out)
    with pytest.raises(DataError, match=r"failed.*free space"):
        write_outputs(small_plan, out, extra_text=EXTRA)
    assert _digest(out) == before
    _no_leftovers(out)


def test_a_folder_that_cannot_be_renamed_gets_its_files_replaced(tmp_path, monkeypatch):
    out = tmp_path / "o"
    out.mkdir()
    (out / "ranking.csv").write_text("old")
    (out / "stability.csv").write_text("old")
    (out / "mine.txt").write_text("mine")
    real = os.replace

    def busy(src, dst):
        if os.fspath(src) == os.fspath(out):
            raise OSError(errno.EBUSY, "Device or resource busy")
        return real(src, dst)

    monkeypatch.setattr(io_outputs.os, "replace", busy)
    with output_set(out, known=OUTPUT_FILES) as stage:
        (stage / "ranking.csv").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt", "ranking.csv"]
    assert (out / "ranking.csv").read_text() == "new"
    _no_leftovers(out)


def test_profiles_folder_goes_with_its_set(small_plan, out, monkeypatch):
    """profiles/ is an output: a failed profile write keeps the previous set, a new set brings
    its own profiles, and a set without profiles leaves none of the previous ones."""
    import dataclasses

    png = b"\x89PNG\r\n\x1a\n" + b"0" * 32
    with_profile = dataclasses.replace(small_plan, profiles_png={"64.01.09.2003": png})
    before = _digest(out)
    real = io_outputs.check_written

    def failing(tmp, final=None, **kwargs):
        if final is not None and os.path.basename(final) == "64.01.09.2003.png":
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
        return real(tmp, final, **kwargs)

    monkeypatch.setattr(io_outputs, "check_written", failing)
    with pytest.raises(DataError, match=r"64\.01\.09\.2003\.png failed"):
        write_outputs(with_profile, out)
    assert _digest(out) == before and not (out / "profiles").exists()
    monkeypatch.setattr(io_outputs, "check_written", real)

    write_outputs(with_profile, out)
    assert (out / "profiles" / "64.01.09.2003.png").read_bytes() == png
    write_outputs(small_plan, out)
    assert not (out / "profiles").exists()
    _no_leftovers(out)


def test_a_folder_that_cannot_be_renamed_gets_its_profiles_replaced(tmp_path, monkeypatch):
    out = tmp_path / "o"
    (out / "profiles").mkdir(parents=True)
    (out / "profiles" / "old.png").write_bytes(b"old")
    real = os.replace

    def busy(src, dst):
        if os.fspath(src) == os.fspath(out):
            raise OSError(errno.EBUSY, "Device or resource busy")
        return real(src, dst)

    monkeypatch.setattr(io_outputs.os, "replace", busy)
    with output_set(out, known=OUTPUT_FILES) as stage:
        (stage / "profiles").mkdir()
        (stage / "profiles" / "new.png").write_bytes(b"new")
    assert sorted(p.name for p in (out / "profiles").iterdir()) == ["new.png"]
    with output_set(out, known=OUTPUT_FILES) as stage:
        (stage / "ranking.csv").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["ranking.csv"]
