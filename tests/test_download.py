"""``parstag data download`` against a local HTTP server (127.0.0.1, port 0) serving the ../shared copies.

GitHub cannot be reached from here; the server serves the same bytes under the GitHub paths, which is
what ``--base-url`` expects of a mirror.  The ARMAN zip is built in a temporary directory from the
shared files (we never had the original zip).  Nothing is copied into the repository.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from parstag.training.data_commands import main
from parstag.training.download import (
    SOURCES,
    ChecksumError,
    DownloadError,
    Source,
    check_installed,
    download_corpus,
    mirror_url,
)

from _shared import SHARED

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"real corpora not found at {SHARED}")


class _Quiet(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """``(base_url, web_root, requests)``: an HTTP server for files put under ``web_root``."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_Quiet,), {"requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _served(root: Path, url: str) -> Path:
    path = root / urlsplit(url).path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def serve_news(root: Path, tamper: str | None = None) -> None:
    """The news files under their GitHub paths (news/, sports/), not their installed ones (fars/, varzesh3/)."""
    for name, url in SOURCES["news"].urls.items():
        data = (SHARED / "news" / name).read_bytes()
        _served(root, url).write_bytes(data.replace(b'"title"', b'"titel"', 1) if name == tamper else data)


def serve_peyma(root: Path, tamper: str | None = None) -> None:
    for name, url in SOURCES["peyma"].urls.items():
        data = (SHARED / "peyma" / name).read_bytes()
        _served(root, url).write_bytes(data.replace(b"|B_PER", b"|B_ORG", 1) if name == tamper else data)


@pytest.fixture(scope="module")
def arman_zip(tmp_path_factory) -> Path:
    """A zip of the shared ARMAN files in a folder, the way a corpus zip usually looks."""
    path = tmp_path_factory.mktemp("zip") / "ArmanPersoNERCorpus.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in SOURCES["arman"].sha256:
            zf.write(SHARED / "arman" / name, f"ArmanPersoNERCorpus/{name}")
        zf.writestr("__MACOSX/ArmanPersoNERCorpus/._test_fold1.txt", b"resource fork")
    return path


def serve_arman(root: Path, archive: Path) -> None:
    ((url,),) = [SOURCES["arman"].urls.values()]
    shutil.copyfile(archive, _served(root, url))


def leftovers(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*")) if directory.exists() else []


def test_pins_are_the_sums_of_the_shared_copies():
    for name, source in SOURCES.items():
        for fname, pinned in source.sha256.items():
            assert hashlib.sha256((SHARED / name / fname).read_bytes()).hexdigest() == pinned, fname
        assert check_installed(SHARED / name, name) == []


def test_mirror_url_keeps_the_github_path():
    url = SOURCES["peyma"].urls["dev.txt"]
    assert mirror_url(url, None) == url
    assert mirror_url(url, "http://127.0.0.1:8000/mirror/") == (
        "http://127.0.0.1:8000/mirror/overfit-ir/persian-twitter-ner/master/ner_data/peyma/dev.txt")  # fmt: skip
    with pytest.raises(DownloadError, match="only http"):
        mirror_url(url, "file:///etc")


def test_peyma_download_verifies_and_is_idempotent(server, tmp_path):
    base, root, requests = server
    serve_peyma(root)
    target = download_corpus("peyma", tmp_path / "data", base_url=base)
    assert target == tmp_path / "data" / "peyma"
    for name in ("train.txt", "dev.txt", "test.txt"):
        assert (target / name).read_bytes() == (SHARED / "peyma" / name).read_bytes()
    assert leftovers(tmp_path / "data") == [target, target / "dev.txt", target / "test.txt", target / "train.txt"]
    assert len(requests) == 3
    download_corpus("peyma", tmp_path / "data", base_url=base)  # verified files present: no request
    assert len(requests) == 3


def test_tampered_peyma_file_is_rejected_and_nothing_is_left(server, tmp_path):
    base, root, _ = server
    serve_peyma(root, tamper="dev.txt")
    with pytest.raises(ChecksumError, match=r"dev\.txt \(from http://127\.0\.0\.1:\d+/overfit-ir/.*\): SHA-256 \w+ is "
                                            r"not the pinned 87eba261"):  # fmt: skip
        download_corpus("peyma", tmp_path / "data" / "corpora", base_url=base)
    assert not (tmp_path / "data").exists()  # the directories this call created are gone too


def test_failure_keeps_an_existing_target_untouched(server, tmp_path):
    base, root, _ = server
    serve_peyma(root, tamper="train.txt")
    existing = tmp_path / "data"
    (existing / "peyma").mkdir(parents=True)
    (existing / "peyma" / "notes.txt").write_text("mine")
    with pytest.raises(ChecksumError):
        download_corpus("peyma", existing, base_url=base)
    assert leftovers(existing) == [existing / "peyma", existing / "peyma" / "notes.txt"]


def test_arman_zip_members_are_verified_and_installed(server, tmp_path, arman_zip):
    base, root, _ = server
    serve_arman(root, arman_zip)
    target = download_corpus("arman", tmp_path / "out", base_url=base)
    assert sorted(p.name for p in target.iterdir()) == sorted(SOURCES["arman"].sha256)
    for name in SOURCES["arman"].sha256:
        assert (target / name).read_bytes() == (SHARED / "arman" / name).read_bytes()
    assert leftovers(tmp_path / "out") == [target, *sorted(target.iterdir())]  # no zip, no staging directory


def test_tampered_arman_member_is_rejected(server, tmp_path):
    base, root, _ = server
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for name in SOURCES["arman"].sha256:
            data = (SHARED / "arman" / name).read_bytes()
            zf.writestr(name, data.replace(b"B-pers", b"B-org", 1) if name == "test_fold2.txt" else data)
    serve_arman(root, bad)
    with pytest.raises(ChecksumError, match=r"test_fold2\.txt \(from .*ArmanPersoNERCorpus\.zip\)"):
        download_corpus("arman", tmp_path / "out", base_url=base)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a zip", "not a zip archive"), (None, "no member named ['test_fold3.txt']")],
)
def test_broken_arman_archives(server, tmp_path, content, message):
    base, root, _ = server
    archive = tmp_path / "a.zip"
    if content is None:
        with zipfile.ZipFile(archive, "w") as zf:
            for name in SOURCES["arman"].sha256:
                if name != "test_fold3.txt":
                    zf.write(SHARED / "arman" / name, name)
    else:
        archive.write_bytes(content)
    serve_arman(root, archive)
    with pytest.raises(DownloadError, match=message.replace("[", r"\[").replace("]", r"\]")):
        download_corpus("arman", tmp_path / "out", base_url=base)
    assert not (tmp_path / "out").exists()


def test_http_errors_and_env_base(server, tmp_path, monkeypatch):
    base, _, requests = server  # nothing served: every request is a 404
    monkeypatch.setenv("PARSTAG_DOWNLOAD_BASE", base)
    with pytest.raises(DownloadError, match=r"/ner_data/peyma/train\.txt: HTTP 404"):
        download_corpus("peyma", tmp_path / "out")
    assert requests and not (tmp_path / "out").exists()


def test_cli_download(server, tmp_path, capsys, monkeypatch):
    base, root, _ = server
    serve_peyma(root)
    monkeypatch.setenv("PARSTAG_DATA", str(tmp_path / "data"))
    assert main(["download", "peyma", "--base-url", base, "--no-progress"]) == 0  # default --to: $PARSTAG_DATA
    out = capsys.readouterr().out
    assert out == f"peyma: 3 files downloaded and verified in {tmp_path / 'data' / 'peyma'}\n"
    assert main(["download", "peyma", "--to", str(tmp_path / "data"), "--base-url", base]) == 0
    assert "already present and verified" in capsys.readouterr().out


def test_cli_download_failure_is_one_line(server, tmp_path, capsys):
    base, root, _ = server
    serve_peyma(root, tamper="test.txt")
    assert main(["download", "peyma", "--to", str(tmp_path / "d"), "--base-url", base, "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("parstag data download: error: test.txt (from ") and err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "d").exists()


def test_news_download_installs_the_shared_layout(server, tmp_path):
    base, root, requests = server
    serve_news(root)
    target = download_corpus("news", tmp_path / "data", base_url=base)
    assert target == tmp_path / "data" / "news"
    names = sorted(SOURCES["news"].sha256)
    assert names == sorted(str(p.relative_to(SHARED / "news")) for p in (SHARED / "news").rglob("*.json"))
    assert leftovers(tmp_path / "data") == sorted([target, target / "fars", target / "varzesh3",
                                                   *(target / name for name in names)])  # fmt: skip
    for name in names:
        assert (target / name).read_bytes() == (SHARED / "news" / name).read_bytes()
    assert sorted(requests) == sorted(
        f"/language-ml/course-nlp-ir-1-text-exploring/HEAD/exploring-datasets/{d}/{f}"
        for d, files in (("news", [f"fars-news-{n}.json" for n in range(1, 5)]),
                         ("sports", [f"varzesh3-{n}.json" for n in range(1, 6)])) for f in files)  # fmt: skip
    assert check_installed(target, "news") == []
    download_corpus("news", tmp_path / "data", base_url=base)  # verified files present: no request
    assert len(requests) == 9


def test_tampered_news_file_is_rejected_and_nothing_is_left(server, tmp_path):
    base, root, _ = server
    serve_news(root, tamper="varzesh3/varzesh3-4.json")
    with pytest.raises(ChecksumError, match=r"varzesh3/varzesh3-4\.json \(from http://127\.0\.0\.1:\d+/language-ml/"
                                            r".*/sports/varzesh3-4\.json\): SHA-256 \w+ is not the pinned 32607f64"):
        download_corpus("news", tmp_path / "data" / "corpora", base_url=base)
    assert not (tmp_path / "data").exists()  # no staging folder with its fars/ and varzesh3/ either


def test_cli_download_news(server, tmp_path, capsys):
    base, root, _ = server
    serve_news(root)
    assert main(["download", "news", "--to", str(tmp_path / "d"), "--base-url", base, "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith(f"news: 9 files downloaded and verified in {tmp_path / 'd' / 'news'}\n")


@pytest.mark.parametrize("name", ["../x.txt", "/etc/passwd", "a/../../x", "a//b", "./a", "a/", "", "a\\b", "a\0b"])
def test_source_refuses_names_that_leave_the_target(name):
    with pytest.raises(ValueError, match="must be relative"):
        Source(urls={name: "https://example.org/x"}, sha256={name: "0" * 64})
    with pytest.raises(ValueError, match="must be relative"):
        Source(urls={"x.txt": "https://example.org/x"}, sha256={name: "0" * 64})


def test_archive_members_cannot_have_folders():
    with pytest.raises(ValueError, match="cannot have folders"):
        Source(urls={"a.zip": "https://example.org/a.zip"}, sha256={"d/x.txt": "0" * 64}, archive="a.zip")
