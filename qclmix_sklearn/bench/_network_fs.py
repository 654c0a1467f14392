"""A results store on a network filesystem is refused: SQLite's file locking is unreliable there.

SQLite's documentation (https://www.sqlite.org/faq.html#q5, "How to corrupt an SQLite database
file", section 2.1) warns that the locking of many network filesystems is broken, so that runs on
several machines sharing one store file could corrupt it. Runs on several machines use a cluster
instead (``--backend dask`` or ``ray``): its workers compute, and the run's main process alone
writes the store, on a local disk.
"""

import os

#: filesystem types (as in /proc/self/mountinfo) whose file locking SQLite cannot rely on
NETWORK_FILESYSTEMS = frozenset(
    {
        "9p",
        "afs",
        "beegfs",
        "ceph",
        "cifs",
        "davfs",
        "fuse.gcsfuse",
        "fuse.glusterfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.sshfs",
        "glusterfs",
        "gpfs",
        "lustre",
        "ncpfs",
        "nfs",
        "nfs4",
        "smb3",
        "smbfs",
    }
)


def _unescape(field):
    # mountinfo writes a space, tab, newline and backslash in a path as octal escapes
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def filesystem_type(path, mountinfo="/proc/self/mountinfo"):
    """The type of the filesystem that holds ``path`` (e.g. ``"ext4"``); None where unknown."""
    try:
        with open(mountinfo) as file:
            lines = file.read().splitlines()
    except OSError:  # not Linux
        return None
    path = os.path.realpath(path)
    longest, kind = -1, None
    for line in lines:
        fields, _, rest = line.partition(" - ")
        fields = fields.split()
        if len(fields) < 5 or not rest:
            continue
        mount_point = _unescape(fields[4])
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > longest:  # the innermost mount wins
            longest, kind = len(mount_point), rest.split()[0]
    return kind


def refuse_network_store(path, mountinfo="/proc/self/mountinfo"):
    """Raise ``ValueError`` when the store ``path`` (or its folder, if new) is on a network FS."""
    path = os.path.abspath(path)
    kind = filesystem_type(path if os.path.exists(path) else os.path.dirname(path), mountinfo)
    if kind in NETWORK_FILESYSTEMS:
        raise ValueError(
            f"the results store {path} is on a network filesystem ({kind}), where SQLite's file "
            "locking is not reliable: runs sharing it could corrupt it. Put --db on a local disk; "
            "to compute on several machines, run one command with --backend dask --scheduler "
            "ADDRESS (or --backend ray): the cluster's workers split the suite and this command "
            "alone writes the store."
        )
