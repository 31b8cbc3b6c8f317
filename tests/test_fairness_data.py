import os
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from gauntlet.data import fetch as fetch_module
from gauntlet.data.fairness import COMPAS, GERMAN, load_compas, load_german
from gauntlet.data.fetch import DataChecksumError, DataUnavailableError, RemoteFile, data_home, fetch, sha256_of



@pytest.fixture
def offline(monkeypatch):
    """No network: every download attempt fails like an unreachable host."""
    calls = []

    def refuse(url, destination):
        calls.append(url)
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(fetch_module, "_download", refuse)
    return calls


def serve_from(monkeypatch, source: Path):
    """A fake network that serves ``source`` for every URL."""
    calls = []

    def download(url, destination):
        calls.append(url)
        shutil.copyfile(source, destination)

    monkeypatch.setattr(fetch_module, "_download", download)
    return calls


def test_data_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GAUNTLET_DATA_HOME", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "explicit"
    monkeypatch.delenv("GAUNTLET_DATA_HOME")
    assert data_home() == tmp_path / "xdg" / "gauntlet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_home() == tmp_path / "home" / ".cache" / "gauntlet"


def test_spec_hashes_match_the_test_copies(repo_data_home):
    assert sha256_of(repo_data_home / GERMAN.relpath) == GERMAN.sha256
    assert sha256_of(repo_data_home / COMPAS.relpath) == COMPAS.sha256


def test_verified_cached_file_is_used_without_network(repo_data_home, offline):
    assert fetch(GERMAN, repo_data_home) == repo_data_home / GERMAN.relpath
    assert offline == []


def test_env_var_selects_the_data_home(repo_data_home, offline, monkeypatch):
    monkeypatch.setenv("GAUNTLET_DATA_HOME", str(repo_data_home))
    assert fetch(COMPAS) == repo_data_home / COMPAS.relpath


def test_offline_missing_file_says_which_file_where_and_hash(tmp_path, offline):
    target = tmp_path / "fairness" / "german.data"
    with pytest.raises(DataUnavailableError) as err:
        fetch(GERMAN, tmp_path)
    message = str(err.value)
    assert "fairness/german.data" in message and str(target) in message
    assert GERMAN.sha256 in message and GERMAN.url in message and "network unreachable" in message
    assert offline == [GERMAN.url]
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_download_disabled(tmp_path, offline):
    with pytest.raises(DataUnavailableError, match="downloads are disabled"):
        fetch(COMPAS, tmp_path, download=False)
    assert offline == []


def test_first_use_downloads_verifies_and_caches(repo_data_home, tmp_path, monkeypatch):
    calls = serve_from(monkeypatch, repo_data_home / GERMAN.relpath)
    path = fetch(GERMAN, tmp_path)
    assert path == tmp_path / GERMAN.relpath and sha256_of(path) == GERMAN.sha256
    assert fetch(GERMAN, tmp_path) == path
    assert calls == [GERMAN.url]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600


def test_download_with_wrong_hash_is_discarded(tmp_path, monkeypatch):
    source = tmp_path / "tampered"
    source.write_bytes(b"not the german credit data\n")
    serve_from(monkeypatch, source)
    home = tmp_path / "home"
    with pytest.raises(DataChecksumError) as err:
        fetch(GERMAN, home)
    message = str(err.value)
    assert sha256_of(source) in message and GERMAN.sha256 in message and str(home / GERMAN.relpath) in message
    assert list((home / "fairness").iterdir()) == []


def test_corrupt_cached_file_is_refetched(repo_data_home, tmp_path, monkeypatch):
    target = tmp_path / GERMAN.relpath
    target.parent.mkdir(parents=True)
    target.write_bytes(b"corrupt")
    calls = serve_from(monkeypatch, repo_data_home / GERMAN.relpath)
    assert fetch(GERMAN, tmp_path) == target
    assert sha256_of(target) == GERMAN.sha256 and calls == [GERMAN.url]


def test_corrupt_cached_file_offline_is_reported_not_used(tmp_path, offline):
    target = tmp_path / COMPAS.relpath
    target.parent.mkdir(parents=True)
    target.write_bytes(b"corrupt")
    with pytest.raises(DataChecksumError) as err:
        fetch(COMPAS, tmp_path)
    message = str(err.value)
    assert f"cached file {target} is corrupt" in message
    assert sha256_of(target) in message and COMPAS.sha256 in message
    with pytest.raises(DataChecksumError, match="downloads are disabled"):
        fetch(COMPAS, tmp_path, download=False)
    with pytest.raises(DataChecksumError):
        load_compas(tmp_path)


def test_generic_remote_file(tmp_path, monkeypatch):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"\x00\x01gauntlet")
    remote = RemoteFile("sub/dir/payload.bin", "https://example.invalid/payload.bin", sha256_of(payload))
    serve_from(monkeypatch, payload)
    assert fetch(remote, tmp_path / "home").read_bytes() == b"\x00\x01gauntlet"


def test_german_loader(repo_data_home):
    data = load_german(repo_data_home, download=False)
    assert data.X.shape == (1000, 60) and data.X.dtype == np.float64
    assert data.y.mean() == pytest.approx(0.7)
    assert data.group.sum() == 149  # applicants younger than 25
    assert "age" not in data.feature_names


def test_compas_loader(repo_data_home):
    data = load_compas(repo_data_home, download=False)
    assert data.X.shape == (5278, 7)
    assert data.group.sum() == 3175  # African-American defendants after ProPublica's filters
    assert set(np.unique(data.y)) == {0, 1}
    assert data.group_names == ("Caucasian", "African-American")


def test_env_with_missing_data_names_the_file(tmp_path, offline):
    from gauntlet.envs.fair_threshold.env import FairThresholdEnv

    with pytest.raises(DataUnavailableError, match="compas-scores-two-years.csv"):
        FairThresholdEnv(dataset="compas", data_home=str(tmp_path))


def test_tests_run_with_the_repository_data_home(repo_data_home):
    # conftest fixes the data home, so the test command needs no environment variable and no network.
    assert data_home() == repo_data_home
    assert load_german().X.shape[0] == 1000 and load_compas().X.shape[0] == 5278


def test_sources_note_lists_every_test_data_file(repo_data_home):
    note = (repo_data_home / "fairness" / "SOURCES.md").read_text()
    for remote in (GERMAN, COMPAS):
        assert Path(remote.relpath).name in note and remote.sha256 in note
