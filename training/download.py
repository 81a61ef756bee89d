"""Fetch ARMAN, PEYMA and the raw news articles from their public homes, verified against pinned SHA-256 sums.

The problem: the corpora's licences keep them out of this repository, so every user downloads them,
and a reader must never pick up a half-written, truncated or altered file.  So everything is fetched
into a staging directory inside the target, every installed file is hashed against its pin, and only
when all of them match are they moved into ``<to>/<name>/`` (``os.replace``: atomic on one file
system).  On any failure the staging directory is removed and nothing is left in the target.

``base_url`` (or ``$PARSTAG_DOWNLOAD_BASE``) replaces scheme and host of every URL and keeps the path,
so a mirror (or a test server) serves the files under their GitHub paths, e.g.
``<base>/overfit-ir/persian-twitter-ner/master/ner_data/peyma/train.txt``.

Installed names may have folders (``news`` installs ``fars/fars-news-1.json``, the layout of
../shared/data/news); they are fixed in :data:`SOURCES` and checked when a :class:`Source` is made
(relative, ``/`` only, no ``..``), so no name can point outside the staging or target directory.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

BASE_URL_ENV = "PARSTAG_DOWNLOAD_BASE"
#: Refuse anything larger: the real files are under 4 MB, and a wrong mirror must not fill the disk.
MAX_BYTES = 256 * 2**20
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A download that failed or was refused; nothing was installed."""


class ChecksumError(DownloadError):
    """A downloaded file whose SHA-256 is not the pinned one."""


@dataclass(frozen=True)
class Source:
    """Where a corpus comes from and what its files must hash to."""

    urls: Mapping[str, str]  # fetched file name -> public URL
    sha256: Mapping[str, str]  # installed file name (may be "folder/name") -> pinned SHA-256
    archive: str | None = None  # the fetched zip whose members are the installed files
    homepage: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        # The names become paths under the staging and target directories: refuse any that could leave them.
        for name in {*self.urls, *self.sha256}:
            if not _is_safe_name(name):
                raise ValueError(f"{name!r}: a file name must be relative, with '/' separators and no '..' or '.'")
        if self.archive and any("/" in name for name in self.sha256):
            raise ValueError("an archive's installed files are matched by base name: they cannot have folders")


def _is_safe_name(name: str) -> bool:
    """Relative, ``/``-separated, no empty, ``.`` or ``..`` part; no backslash (a separator on Windows) or NUL."""
    return not any(c in name for c in "\\\0") and all(part not in ("", ".", "..") for part in name.split("/"))


_PEYMA = "https://raw.githubusercontent.com/overfit-ir/persian-twitter-ner/master/ner_data/peyma/"

_NEWS = "https://raw.githubusercontent.com/language-ml/course-nlp-ir-1-text-exploring/HEAD/exploring-datasets/"
# Installed as in ../shared/data/news (fars/, varzesh3/), not as on GitHub (news/, sports/).
_NEWS_FILES = {f"fars/fars-news-{n}.json": f"{_NEWS}news/fars-news-{n}.json" for n in range(1, 5)} | {
    f"varzesh3/varzesh3-{n}.json": f"{_NEWS}sports/varzesh3-{n}.json" for n in range(1, 6)}

SOURCES: dict[str, Source] = {
    "arman": Source(
        urls={"ArmanPersoNERCorpus.zip": "https://github.com/HaniehP/PersianNER/raw/master/ArmanPersoNERCorpus.zip"},
        # The zip's own sum is NOT pinned: we never had the zip, only its extracted files (../shared/data/arman,
        # copied unchanged).  So every member is verified after extraction instead, which is what matters.
        sha256={
            "ReadMe.txt": "9585f0555820683d02f6b4adf6f914dd4496446d7508ea74817d95bf54a9304d",
            "test_fold1.txt": "66219f1dafd3de23ff89738a20fce3cf90db039234bfd3bd11e3c367f2f288ef",
            "test_fold2.txt": "e66dcc2cf2d41a6de81afb6c967fab3e812a848818d6513ccf4a20bed6e582d9",
            "test_fold3.txt": "0467a53c7c44b7c462a0f87df91ca7d1afd5bb940e21f2d9b4ada571609deb97",
            "train_fold1.txt": "860241812c234ce91b3718ff745145f7e36a8056538d356e650301fa36f6bb88",
            "train_fold2.txt": "9cc95df155886cebcbd2bc6ba3d10e1e68d4a15b48e51238d6085e5546367f7c",
            "train_fold3.txt": "8fc682b85187ed4a67e08d3fd5b2a28b6390644f9107c42f1c15e02f217515f7",
        },
        archive="ArmanPersoNERCorpus.zip",
        homepage="https://github.com/HaniehP/PersianNER",
        license="academic research use only",
    ),
    "peyma": Source(
        urls={f"{s}.txt": f"{_PEYMA}{s}.txt" for s in ("train", "dev", "test")},
        # The files in ../shared/data/peyma are copied unchanged from these URLs; their sums are the pins.
        sha256={
            "train.txt": "7b85d1bfcfc6f8793b9f343ccb34be34295230b8a856ee45be2f1bad48335706",
            "dev.txt": "87eba2616fbeebfc8589b7125568833e879efead5a1b12c38a3466702df31810",
            "test.txt": "59a5f7f2bc2f6d89965a8b832a371293df23976eb7552a41916976d3a7dd7c96",
        },
        homepage="https://github.com/overfit-ir/persian-twitter-ner",
        license="free for research",
    ),
    # Raw Fars News and Varzesh3 articles (no annotation): the input of `parstag data silver`.
    "news": Source(
        urls=_NEWS_FILES,
        # The files in ../shared/data/news are copied unchanged from these URLs; their sums are the pins.
        sha256={
            "fars/fars-news-1.json": "4081156e40a85dce87c7fbb0c7766d4facbc4cf493d7d81646eb1db9977c624f",
            "fars/fars-news-2.json": "d73740b639fcefbdaf829d4d634827330901d8fd69d3655c6b69e6f49beb68d8",
            "fars/fars-news-3.json": "0b3f947787adab6f5f8d45d03248675c4bedb6d398b66df98350f664919b3bd8",
            "fars/fars-news-4.json": "ef18fb75b23d7e4b29e90e8ac6f6b3298b1013092cd5b355b1dfa0f770bdf63f",
            "varzesh3/varzesh3-1.json": "95d4a287fd022e4dae113efdd303cf3269aa839812c5412f147629f8b58ad950",
            "varzesh3/varzesh3-2.json": "15b0ed51da6a5f944ce8dbbe49c60d59537c98725d1a363c14ccc1564224e8e8",
            "varzesh3/varzesh3-3.json": "f1a9ae4a08892cc17ef0aadd5472d75f1edfae406a7796d7f423b90f9f06f214",
            "varzesh3/varzesh3-4.json": "32607f6400598d606d2e74974b6232646ccdc41bfebf1d544ffb1e226f3a6b2c",
            "varzesh3/varzesh3-5.json": "239ef03a2bf49b141eb64543c66df270dca9a0610d44e65d2a19cfa36bda1a83",
        },
        homepage="https://github.com/language-ml/course-nlp-ir-1-text-exploring",
        license="scraped from the publishers' sites; for research and testing",
    ),
}


def default_download_root() -> Path:
    """``$PARSTAG_DATA`` or ``./data/corpora``: where ``parstag data download`` puts corpora by default.

    Unlike ``corpora.data_dir()`` it never falls back to ``../shared/data``: that copy is read-only.
    """
    return Path(os.environ.get("PARSTAG_DATA") or Path.cwd() / "data" / "corpora").expanduser()


def mirror_url(url: str, base_url: str | None) -> str:
    """``url`` with scheme and host (and a path prefix) taken from ``base_url``; only http(s) is allowed."""
    if base_url:
        url = base_url.rstrip("/") + urlsplit(url).path
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url}: only http:// and https:// URLs are fetched")
    return url


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_installed(directory: str | os.PathLike, name: str) -> list[str]:
    """The installed files of ``name`` under ``directory`` that are missing or differ from their pin."""
    directory = Path(directory)
    return [f for f, want in SOURCES[name].sha256.items()
            if not (directory / f).is_file() or sha256_file(directory / f) != want]  # fmt: skip


def _fetch(url: str, dest: Path, timeout: float, progress: bool) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "parstag"})
    bar = None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as out:
            if progress:  # tqdm only here, on the command line's path
                from tqdm import tqdm

                total = int(response.headers.get("Content-Length") or 0) or None
                bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name, leave=False)
            size = 0
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise DownloadError(f"{url}: more than {MAX_BYTES} bytes; refused")
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: {exc.reason}") from None
    except (http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise DownloadError(f"{url}: {exc.__class__.__name__}: {exc}") from None
    finally:
        if bar is not None:
            bar.close()


def _extract(archive: Path, names: set[str], staging: Path) -> None:
    """Copy the members named ``names`` (matched by base name, in any folder) into ``staging``.

    Members are written under OUR names, never under a path taken from the archive, so a hostile zip
    cannot write outside ``staging``.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise DownloadError(f"{archive.name}: not a zip archive") from None
    with zf:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            base = PurePosixPath(info.filename).name
            if base in names and not info.is_dir() and "__MACOSX" not in info.filename:
                members.setdefault(base, info)
        if names - set(members):
            raise DownloadError(f"{archive.name}: no member named {sorted(names - set(members))}")
        for base, info in members.items():
            if info.file_size > MAX_BYTES:
                raise DownloadError(f"{archive.name}: member {info.filename} is too large; refused")
            with zf.open(info) as src, (staging / base).open("wb") as dst:
                shutil.copyfileobj(src, dst)


def download_corpus(
    name: str,
    to: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
    force: bool = False,
    progress: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Fetch, verify and install corpus ``name`` into ``<to>/<name>/``; return that directory.

    Does nothing when every file is already there with its pinned sum (unless ``force``).  Raises
    :class:`DownloadError` (:class:`ChecksumError` for a sum that does not match) and then leaves
    nothing behind: no staging directory, no partial file, and no ``<to>`` if this call created it.
    """
    if name not in SOURCES:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(SOURCES)}")
    source, root = SOURCES[name], Path(to) if to is not None else default_download_root()
    target = root / name
    if not force and not check_installed(target, name):
        return target
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    urls = {f: mirror_url(u, base_url) for f, u in source.urls.items()}
    created = [p for p in (root, *root.parents) if not p.exists()]
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=root))
    installed = False
    try:
        for fname, url in urls.items():
            (staging / fname).parent.mkdir(parents=True, exist_ok=True)
            _fetch(url, staging / fname, timeout, progress)
        if source.archive:
            _extract(staging / source.archive, set(source.sha256), staging)
        for fname, want in source.sha256.items():
            got = sha256_file(staging / fname)
            if got != want:
                where = urls[source.archive] if source.archive else urls[fname]
                raise ChecksumError(f"{fname} (from {where}): SHA-256 {got} is not the pinned {want}; "
                                    "nothing was installed")  # fmt: skip
        target.mkdir(exist_ok=True)
        for fname in source.sha256:
            (target / fname).parent.mkdir(parents=True, exist_ok=True)  # names may have folders
            os.replace(staging / fname, target / fname)
        installed = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not installed:
            for directory in created:  # innermost first; only directories this call made, and only if empty
                try:
                    directory.rmdir()
                except OSError:
                    break
    return target
