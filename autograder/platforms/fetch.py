"""Get a data set's official files (e.g. Fashion-MNIST's four) into a folder, verified by SHA-256.

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

from autograder.data import DataError
from autograder.exercise_spec import DatasetFiles, common_dataset


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksums(spec: DatasetFiles | None) -> dict[str, str]:
    spec = spec or common_dataset()
    if set(spec.sha256) != set(spec.files.values()):
        raise DataError(f"{spec.title}: the exercise declares no checksum for some of its files")
    return dict(spec.sha256)


def intact(directory: str | os.PathLike[str], spec: DatasetFiles | None = None) -> bool:
    """All the data set's files are in `directory` and are the official ones."""
    folder = Path(directory)
    return all(
        (folder / n).is_file() and sha256(folder / n) == h for n, h in _checksums(spec).items()
    )


def sha256sums(spec: DatasetFiles | None = None) -> str:
    """The hashes in `sha256sum -c` format."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(_checksums(spec).items()))


def fetch(
    directory: str | os.PathLike[str],
    base_url: str | None = None,
    *,
    spec: DatasetFiles | None = None,
    timeout: float = 120,
) -> Path:
    """Make `directory` hold the data set's official files (default: the one the exercises
    share); download only those missing or wrong.

    Raises:
        DataError: a download failed or a file does not have the official hash (nothing is
            left half-written: each file is moved into place only once verified).
    """
    spec = spec or common_dataset()
    base_url = base_url or spec.base_url
    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for name, expected in _checksums(spec).items():
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
