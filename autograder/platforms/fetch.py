"""Get the four official Fashion-MNIST files into a folder, verified by SHA-256.

Used by the GitHub Classroom and GitLab recipes (into a cached folder) and by Gradescope's
`setup.sh` when the bundle does not carry the data. The source is the one keras itself downloads
from; the hashes are those of Zalando's official files (the MD5s in their README match too).

Example:
    autograder fetch-data ~/.cache/fashion-mnist     # no download when already there and intact
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from autograder.data import FILES, DataError

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
assert set(SHA256) == set(FILES.values())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def intact(directory: str | os.PathLike[str]) -> bool:
    """All four files are in `directory` and are the official ones."""
    folder = Path(directory)
    return all((folder / n).is_file() and sha256(folder / n) == h for n, h in SHA256.items())


def sha256sums() -> str:
    """The hashes in `sha256sum -c` format."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(SHA256.items()))


def fetch(
    directory: str | os.PathLike[str], base_url: str = BASE_URL, *, timeout: float = 120
) -> Path:
    """Make `directory` hold the four official files; download only those missing or wrong.

    Raises:
        DataError: a download failed or a file does not have the official hash (nothing is
            left half-written: each file is moved into place only once verified).
    """
    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for name, expected in SHA256.items():
        target = folder / name
        if target.is_file() and sha256(target) == expected:
            continue
        url = base_url.rstrip("/") + "/" + name
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", delete=False) as tmp:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                    shutil.copyfileobj(response, tmp)
            except OSError as exc:
                Path(tmp.name).unlink(missing_ok=True)
                raise DataError(f"could not download {url}: {exc}") from exc
        actual = sha256(Path(tmp.name))
        if actual != expected:
            Path(tmp.name).unlink(missing_ok=True)
            raise DataError(
                f"{url} is not the official {name} (sha256 {actual}, expected {expected})"
            )
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, target)
    return folder
