import { Badge } from '@/components/ui/badge';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import type { PreviewEntry } from '@/server/policies/prune';

/** What retention would keep and prune now, per volume, and which rule keeps each backup. */
export function PrunePreview({
  preview,
  volumeNames,
}: {
  preview: { volumeId: string; entries: PreviewEntry[] }[];
  volumeNames: Map<string, string | null>;
}) {
  if (preview.length === 0) return <p className="text-sm text-slate-600">Assign a volume to see what retention would keep.</p>;
  return (
    <div className="space-y-4">
      {preview.map(({ volumeId, entries }) => (
        <div key={volumeId}>
          <h3 className="mb-1 text-sm font-medium text-slate-800">{volumeNames.get(volumeId) ?? volumeId}</h3>
          {entries.length === 0 ? (
            <p className="text-sm text-slate-600">No backups made by this policy yet.</p>
          ) : (
            <Table label={`Prune preview for ${volumeNames.get(volumeId) ?? volumeId}`}>
              <THead>
                <Th>Backup</Th>
                <Th>Made</Th>
                <Th>Decision</Th>
                <Th>Why</Th>
              </THead>
              <TBody>
                {entries.map((entry) => (
                  <tr key={entry.backupId}>
                    <Td>{entry.name ?? <ShortId id={entry.backupId} />}</Td>
                    <Td>
                      <LocalTime value={entry.createdAt} />
                    </Td>
                    <Td>
                      <Badge tone={entry.keep ? 'green' : 'red'}>{entry.keep ? 'keep' : 'prune'}</Badge>
                    </Td>
                    <Td>{entry.reasons.join(', ') || 'no rule keeps it'}</Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </div>
      ))}
    </div>
  );
}
