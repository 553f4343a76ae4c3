"""The model store under concurrency: versions claimed atomically, files replaced whole."""

import json
import os
import threading

import pytest

from keras_ae._utils import current_umask, write_text_atomically
from keras_ae.export import claim_next_version, list_store
from keras_ae.export import versions as versions_module
from tests.conftest import finish_processes, start_python


def finished_folder(base, payload):
    """A finished export waiting to be published: a dot folder holding one file."""
    folder = base / f".export.tmp-{payload}"
    folder.mkdir()
    (folder / "payload").write_text(payload)
    return folder


def visible(base):
    return sorted(name for name in os.listdir(base) if not name.startswith("."))


def test_concurrent_writers_each_claim_their_own_version(tmp_path):
    writers = 16
    folders = [finished_folder(tmp_path, str(i)) for i in range(writers)]
    barrier = threading.Barrier(writers)
    claimed, errors = [None] * writers, []

    def writer(i):
        barrier.wait()  # every writer sees the same empty folder, then all rename at once
        try:
            claimed[i] = claim_next_version(str(folders[i]), str(tmp_path))
        except Exception as error:  # noqa: BLE001 - collected and failed on below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(int(os.path.basename(path)) for path in claimed) == list(range(1, writers + 1))
    # Each version is one writer's whole folder: all payloads present, none lost or mixed.
    payloads = sorted((tmp_path / str(v) / "payload").read_text() for v in range(1, writers + 1))
    assert payloads == sorted(str(i) for i in range(writers))
    for path in claimed:
        assert os.listdir(path) == ["payload"]
    assert sorted(os.listdir(tmp_path), key=int) == [str(v) for v in range(1, writers + 1)]


def test_a_version_taken_between_the_check_and_the_rename_moves_the_writer_on(tmp_path, monkeypatch):
    folder = finished_folder(tmp_path, "mine")
    (tmp_path / "3").touch()  # a stray file with a version's name blocks that number too
    tried = []

    def stamp(number):
        tried.append(number)
        if number == 1:
            # Another writer publishes version 1 after this one checked it was free.
            (tmp_path / "1").mkdir()
            (tmp_path / "1" / "payload").write_text("theirs")

    # A stale view of the folder (1, then 3 look free), as a writer that listed it earlier has.
    views = iter([1, 3])
    real = versions_module.next_free_version
    monkeypatch.setattr(
        versions_module, "next_free_version", lambda folder: next(views, None) or real(folder)
    )
    assert claim_next_version(str(folder), str(tmp_path), stamp) == str(tmp_path / "4")
    assert tried == [1, 4]
    assert (tmp_path / "1" / "payload").read_text() == "theirs"
    assert (tmp_path / "4" / "payload").read_text() == "mine"
    assert visible(tmp_path) == ["1", "3", "4"]


def test_an_empty_version_folder_is_never_replaced(tmp_path):
    # rename() would silently replace an empty folder: a claim skips it.
    (tmp_path / "1").mkdir()
    folder = finished_folder(tmp_path, "mine")
    assert claim_next_version(str(folder), str(tmp_path)) == str(tmp_path / "2")
    assert os.listdir(tmp_path / "1") == []


def test_version_folders_are_read_as_tf_serving_reads_them(tmp_path):
    # TF Serving reads "007" as version 7: it is listed, resolved and counted under its own
    # name; "²" (str.isdigit() but not int()) and "1a" are not versions.
    from keras_ae.export.client import resolve_version_dir

    for name in ("007", "3", "²", "1a"):
        (tmp_path / name).mkdir()
    (tmp_path / "007" / "saved_model.pb").write_bytes(b"")
    assert versions_module.version_folders(str(tmp_path)) == {3: "3", 7: "007"}
    assert versions_module.servable_versions(str(tmp_path)) == [7]
    assert versions_module.next_free_version(str(tmp_path)) == 8
    assert resolve_version_dir(tmp_path) == str(tmp_path / "007")
    assert versions_module.version_path(str(tmp_path), 7) == str(tmp_path / "007")
    assert versions_module.version_path(str(tmp_path), 9) == str(tmp_path / "9")
    assert list_store(tmp_path.parent)[tmp_path.name] == [7]
    (tmp_path / "7").mkdir()  # two names of one number: the canonical one is version 7
    assert versions_module.version_folders(str(tmp_path))[7] == "7"


def test_claims_give_up_with_a_clear_error(tmp_path, monkeypatch):
    folder = finished_folder(tmp_path, "mine")
    monkeypatch.setattr(versions_module.os.path, "lexists", lambda path: True)
    with pytest.raises(FileExistsError, match="after 5 attempts.*explicit version"):
        claim_next_version(str(folder), str(tmp_path), attempts=5)
    assert (folder / "payload").read_text() == "mine"  # nothing lost


def test_concurrent_rewrites_of_a_file_leave_one_whole_text(tmp_path):
    path = tmp_path / "models.config"
    texts = [f"writer {i}\n" * 20000 for i in range(8)]
    barrier = threading.Barrier(len(texts))

    def writer(text):
        barrier.wait()
        for _ in range(5):
            write_text_atomically(path, text)

    threads = [threading.Thread(target=writer, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert path.read_text() in texts
    assert os.listdir(tmp_path) == ["models.config"]  # no temporary file left behind
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())


EXPORTER = """
import os, time, keras, keras_ae
from keras_ae.export import export_for_serving
keras.utils.set_random_seed({seed})
model = keras_ae.create_model("autoencoder", input_shape=(6,), latent_dim={seed} + 1, hidden_units=(4,))
model.build((None, 6))
open(os.path.join({sync!r}, "{seed}"), "w").close()
deadline = time.monotonic() + 120
while len(os.listdir({sync!r})) < {count} and time.monotonic() < deadline:
    time.sleep(0.01)  # every process built its model: the exports start together
print("EXPORTED", export_for_serving(model, {base!r}))
"""


def test_processes_exporting_at_once_each_get_a_complete_version(tmp_path):
    base, sync = tmp_path / "store" / "ae", tmp_path / "ready"
    sync.mkdir()
    processes = [
        start_python(EXPORTER.format(seed=seed, sync=str(sync), count=3, base=str(base))) for seed in range(3)
    ]
    outputs = finish_processes(processes, timeout=240)
    published = sorted(out.split("EXPORTED ", 1)[1].strip() for out in outputs)
    assert published == [str(base / str(v)) for v in (1, 2, 3)]
    assert list_store(tmp_path / "store") == {"ae": [1, 2, 3]}
    names = set()
    for version in (1, 2, 3):
        info = json.loads((base / str(version) / "metadata.json").read_text())
        assert info["version"] == version  # the number it was published under
        names.add(info["latent_dim"])
    assert names == {1, 2, 3}  # one export of each process
    assert visible(base) == ["1", "2", "3"] and sorted(os.listdir(base)) == ["1", "2", "3"]
