"""The one atomic writer (``serialization.write_atomically``): whole files, usual permissions, no debris."""
import os
import stat

import pytest

from minipeft.serialization import write_atomically


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_written_file_gets_the_permissions_open_would_give(tmp_path, umask_022):
    path = tmp_path / "results.json"
    write_atomically(path, lambda file: file.write(b"{}\n"))
    with open(tmp_path / "plain.json", "wb") as file:
        file.write(b"{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE((tmp_path / "plain.json").stat().st_mode) == 0o644
    assert path.read_bytes() == b"{}\n"


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")

    def fails_halfway(file):
        file.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(path, fails_halfway)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]
