#!/usr/bin/env python3
"""Drives OpenStack Cinder's own PosixBackupDriver (Debian python3-cinder) on a repository.

  python3 cinder_driver.py restore REQUEST.json
      REQUEST: {"repo": dir, "target": file, "size": bytes, "volume_id": id,
                "chain": [{"id", "container", "prefix", "parent_id"}, ...]}   (full first)
  python3 cinder_driver.py recompress REQUEST.json
      REQUEST: {"repo": dir, "container": name, "prefix": prefix, "algorithm": "zstd"|"bz2"|"zlib"}

restore runs the driver's real restore() for the last backup of the chain: Cinder reads each layer's
_metadata, checks the object list, decompresses every object with the module its metadata
names (zlib, bz2, or the python `zstd` module, which needs the content size in each frame
header) and writes it into the target; then it applies volume_meta through its backup
metadata API. Only what lies outside the driver is stood in for: the backups table (parent
lookups and the status the driver polls) and the volumes table the metadata API writes to,
whose writes are recorded. Prints one JSON line: {"volume_updates", "volume_metadata",
"glance_metadata"}. Cinder's exceptions propagate (exit status 1).

recompress rewrites every uncompressed ("none") data object of one backup as Cinder's backup()
would have stored it with that algorithm: through the driver's own _prepare_output_data (the
compressor module Cinder imports, stored raw when it does not shrink), and records the
algorithm in _metadata. Prints {"objects": {name: algorithm}}.
"""
import importlib.util
import json
import os
import subprocess
import sys


def _reexec_with_cinder_python():
    """Re-runs under a python3 that can import Debian's cinder (PATH may start with another)."""
    spec = importlib.util.find_spec('cinder')
    if spec is not None and spec.origin not in (None, 'namespace'):
        return
    if os.environ.get('_CINDER_RESTORE_REEXEC'):
        sys.exit('python3-cinder is not importable: apt-get install python3-cinder')
    probe = 'import importlib.util as u, sys; s = u.find_spec("cinder"); print(sys.executable if s and s.origin else "")'
    for directory in ['/usr/bin'] + os.environ.get('PATH', '').split(os.pathsep):
        candidate = os.path.join(directory, 'python3')
        if not os.access(candidate, os.X_OK):
            continue
        try:
            found = subprocess.run([candidate, '-c', probe], capture_output=True, text=True, timeout=60, cwd='/').stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if found and os.access(found, os.X_OK):
            os.environ['_CINDER_RESTORE_REEXEC'] = '1'
            os.execv(found, [found] + sys.argv)
    sys.exit('no python3 can import cinder: apt-get install python3-cinder')


_reexec_with_cinder_python()
sys.dont_write_bytecode = True

import contextlib  # noqa: E402

from oslo_config import cfg  # noqa: E402

from cinder import context as cinder_context  # noqa: E402
from cinder.backup import chunkeddriver  # noqa: E402
from cinder.backup.drivers import posix  # noqa: E402
from cinder.objects import fields  # noqa: E402


class BackupRow:
    """The few parts of objects.Backup the driver's restore reads."""

    def __init__(self, layer):
        self.id = layer['id']
        self.container = layer['container']
        self.service_metadata = layer['prefix']
        self.parent_id = layer.get('parent_id')
        self.status = fields.BackupStatus.RESTORING

    def __getitem__(self, key):
        return getattr(self, key)

    def refresh(self):
        pass

    @contextlib.contextmanager
    def as_read_deleted(self):
        yield self


class BackupsTable:
    """Stands in for objects.Backup.get_by_id in the driver module."""

    def __init__(self, rows):
        self.rows = rows

    @property
    def Backup(self):
        rows = self.rows

        class Lookup:
            @staticmethod
            def get_by_id(_context, backup_id):
                return rows[backup_id]

        return Lookup


class VolumesTable:
    """The volume rows the backup metadata API reads and writes, writes recorded."""

    def __init__(self, volume_id):
        self.volume = {'id': volume_id, 'display_name': 'restore_backup_%s' % volume_id, 'display_description': None,
                       'volume_type_id': None, 'encryption_key_id': None}
        self.updates = []
        self.metadata = {}
        self.glance = {}

    def volume_get(self, _context, _volume_id):
        return self.volume

    def volume_update(self, _context, _volume_id, values):
        self.updates.append(values)
        self.volume.update(values)

    def volume_metadata_update(self, _context, _volume_id, metadata, delete):
        if delete:
            self.metadata = {}
        self.metadata.update(metadata)

    def volume_glance_metadata_delete_by_volume(self, _context, _volume_id):
        self.glance = {}

    def volume_glance_metadata_create(self, _context, _volume_id, key, value):
        self.glance[key] = value

    def volume_type_get(self, _context, type_id):
        return {'id': type_id}


def make_driver(repo, algorithm='zlib'):
    cfg.CONF([], project='cinder', default_config_files=[])
    cfg.CONF.set_override('backup_posix_path', repo)
    cfg.CONF.set_override('backup_compression_algorithm', algorithm)
    # The driver's base class opens Cinder's database engine; an in-memory one, never queried.
    cfg.CONF.set_override('connection', 'sqlite://', group='database')
    return posix.PosixBackupDriver(cinder_context.get_admin_context(), backup_path=repo)


def restore(request):
    driver = make_driver(request['repo'])
    rows = {layer['id']: BackupRow(layer) for layer in request['chain']}
    chunkeddriver.objects = BackupsTable(rows)
    volumes = VolumesTable(request['volume_id'])
    driver.backup_meta_api.db = volumes
    with open(request['target'], 'wb') as handle:
        handle.truncate(request['size'])
    last = rows[request['chain'][-1]['id']]
    with open(request['target'], 'r+b') as volume_file:
        driver.restore(last, request['volume_id'], volume_file)
    print(json.dumps({'volume_updates': volumes.updates, 'volume_metadata': volumes.metadata, 'glance_metadata': volumes.glance}))


def recompress(request):
    driver = make_driver(request['repo'], request['algorithm'])
    directory = os.path.join(request['repo'], request['container'])
    metadata_path = os.path.join(directory, request['prefix'] + '_metadata')
    with open(metadata_path) as handle:
        metadata = json.load(handle)
    written = {}
    for entry in metadata['objects']:
        name, record = list(entry.items())[0]
        if record['compression'] != 'none':
            continue
        with open(os.path.join(directory, name), 'rb') as handle:
            data = handle.read()
        algorithm, output = driver._prepare_output_data(data)
        with open(os.path.join(directory, name), 'wb') as handle:
            handle.write(output)
        record['compression'] = algorithm
        written[name] = algorithm
    with open(metadata_path, 'w') as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)
    print(json.dumps({'objects': written}))


if __name__ == '__main__':
    with open(sys.argv[2]) as request_file:
        {'restore': restore, 'recompress': recompress}[sys.argv[1]](json.load(request_file))
