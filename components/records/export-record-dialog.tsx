'use client';

import { useState } from 'react';
import { exportRecordAction } from '@/server/backups/records-actions';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Notice } from '@/components/ui/notice';

/** Shows a backup's export record, copies it and downloads it as a file. */
export function ExportRecordDialog({ backupId, name }: { backupId: string; name: string | null }) {
  const [open, setOpen] = useState(false);
  const [record, setRecord] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const fileName = `backup-record-${(name ?? backupId).replace(/[^A-Za-z0-9_.-]+/g, '-')}.json`;
  return (
    <>
      <Button
        variant="secondary"
        onClick={async () => {
          setOpen(true);
          setCopied(false);
          const result = await exportRecordAction(backupId);
          if (result.ok) {
            setRecord(JSON.stringify(result.data, null, 2));
            setError(null);
          } else {
            setRecord(null);
            setError(result.message);
          }
        }}
      >
        Export record…
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Backup record">
        {error && <Notice tone="error">{error}</Notice>}
        {record && (
          <>
            <p className="mb-2 text-sm text-slate-600">
              Import this into another installation (or OpenStack Cinder) that reaches the same repository, to restore the backup there.
            </p>
            <textarea
              readOnly
              aria-label="Backup record"
              value={record}
              rows={8}
              className="block w-full rounded-md bg-slate-50 p-3 font-mono text-xs text-slate-800 ring-1 ring-slate-200"
            />
            <div className="mt-3 flex justify-end gap-2">
              <Button
                variant="secondary"
                onClick={async () => {
                  await navigator.clipboard.writeText(record).catch(() => undefined);
                  setCopied(true);
                }}
              >
                {copied ? 'Copied' : 'Copy'}
              </Button>
              <a
                className="inline-flex items-center rounded-md bg-slate-900 px-3.5 py-2 text-sm font-medium text-white hover:bg-slate-700"
                download={fileName}
                href={`data:application/json;charset=utf-8,${encodeURIComponent(record)}`}
              >
                Download
              </a>
            </div>
          </>
        )}
      </Dialog>
    </>
  );
}
