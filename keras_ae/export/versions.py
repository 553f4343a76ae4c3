"""Version folders of a model in the store: listing them, and publishing a new one atomically.

TF Serving serves `base/<version>/` folders; a version appears by one rename of a finished
folder, so a server or a lister never sees a half-written one.
"""

import errno
import os
import re
import shutil
import tempfile

# TF Serving reads a version folder's name as a decimal number (so "007" is version 7).
# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_NUMBER = re.compile(r"[0-9]+")


def version_folders(export_dir):
    """`{version number: folder name}` of the numbered subfolders of a model's base folder.

    A name is its number as TF Serving reads it, so a zero-padded `007` is version 7 and
    keeps its own name here (a path built from the number would miss it). Of two names of
    one number, the canonical one (`7`) wins.
    """
    if not os.path.isdir(export_dir):
        return {}
    folders = {}
    for name in sorted(os.listdir(export_dir), key=len, reverse=True):  # "7" after "007": it wins
        if _NUMBER.fullmatch(name) and os.path.isdir(os.path.join(export_dir, name)):
            folders[int(name)] = name
    return dict(sorted(folders.items()))


def existing_versions(export_dir):
    """The sorted version numbers (numbered subfolders) in a model's base folder."""
    return list(version_folders(export_dir))


def version_path(export_dir, version):
    """The folder of `version` in `export_dir`: its existing folder (`007` for 7), else `<version>`."""
    return os.path.join(export_dir, version_folders(export_dir).get(version, str(version)))


def servable_versions(export_dir):
    """The sorted version numbers of `export_dir` whose folders hold a SavedModel
    (`saved_model.pb`): the ones TF Serving serves. A stray numbered file or empty folder is
    not one."""
    return [
        version
        for version, name in version_folders(export_dir).items()
        if os.path.isfile(os.path.join(export_dir, name, "saved_model.pb"))
    ]


def next_free_version(export_dir):
    """One more than the highest numbered entry of `export_dir`, file or folder (1 when there
    is none)."""
    taken = (
        [int(name) for name in os.listdir(export_dir) if _NUMBER.fullmatch(name)]
        if os.path.isdir(export_dir)
        else []
    )
    return max(taken, default=0) + 1


# Renaming a folder onto an existing one fails with one of these (a non-empty folder:
# ENOTEMPTY or EEXIST; a file of that name: ENOTDIR).
_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)


def claim_next_version(folder, export_dir, stamp=None, attempts=1000):
    """Renames the finished `folder` into `export_dir` as the next free version, atomically.

    Several writers may export into one model's folder at once: each takes the next free
    number and renames its folder onto it. A rename onto a version that another writer
    published in the meantime fails (the kernel refuses to replace a non-empty folder),
    and the writer moves on to the next number. Every writer gets its own complete
    version; nothing is overwritten.

    Args:
        folder: the finished version, a folder inside `export_dir`.
        export_dir: the model's base folder.
        stamp: optional callable, given each number tried before its rename (to write
            the number into the folder's metadata).
        attempts: how many numbers to try before giving up.

    Returns:
        The path of the claimed version folder.
    """
    version = next_free_version(export_dir)
    for _ in range(attempts):
        target = os.path.join(export_dir, str(version))
        if not os.path.lexists(target):  # an empty folder would be silently replaced
            if stamp is not None:
                stamp(version)
            try:
                os.rename(folder, target)
                return target
            except OSError as error:
                if error.errno not in _TAKEN:
                    raise
        version = max(version + 1, next_free_version(export_dir))
    raise FileExistsError(
        f"Could not claim a free version in {export_dir} after {attempts} attempts: other writers "
        "keep taking them. Pass an explicit version."
    )


def publish_version(tmp, target, overwrite):
    """Renames the finished `tmp` folder to `target` (replacing it if `overwrite`)."""
    old = None
    if os.path.exists(target):
        if not overwrite:
            raise FileExistsError(f"Version folder appeared while exporting: {target}")
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=os.path.dirname(target))
        os.rmdir(old)
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError as error:
        if old is not None:
            os.rename(old, target)
        raise FileExistsError(f"Could not move the export into place at {target}: {error}") from error
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
