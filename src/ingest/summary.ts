import type { IngestReport } from './ingest-service.js';
import type { StageRate } from './stage-clock.js';

const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`;
};

/** The final summary of an ingest, as the CLI prints it. */
export function formatSummary(report: IngestReport): string {
  const c = report.counts;
  const rate = report.elapsedMs > 0 ? (report.imagesHandled / report.elapsedMs) * 1000 : 0;
  const lines = [
    `Ingest of "${report.source}" ${report.status}${report.resumed ? ' (resumed)' : ''} in ${duration(report.elapsedMs)} — run ${report.runId}`,
    `  items    ${report.itemsDone}${report.itemsTotal !== null ? ` of ${report.itemsTotal}` : ''} in ${report.pagesDone} pages: ${c.created} added, ${c.updated} updated, ${c.unchanged} unchanged, ${c.failed} failed`,
    `  images   ${c.newImages} new, ${c.unchangedImages} unchanged, ${c.exactDuplicates} exact duplicates, ${c.nearDuplicates} near-duplicates in ${report.nearDuplicateGroups.total} groups, ${c.failedImages} failed`,
    `  speed    ${rate.toFixed(1)} images/s (${report.imagesHandled} images in this process)`,
  ];
  // Stages overlap: the one active for most of the run is what bounds it.
  const share = (s: StageRate) => Math.round((100 * s.activeMs) / Math.max(1, report.elapsedMs));
  if (report.stages.length) lines.push(`  stages   ${report.stages.map((s) => `${s.stage} ${s.imagesPerSecond}/s (${share(s)} % of the time)`).join(', ')}`);
  if (c.pruned) lines.push(`  pruned   ${c.pruned} products the source no longer lists`);
  if (report.error) lines.push(`  error    ${report.error}`);
  if (report.failures.length) {
    lines.push('  failures:');
    for (const f of report.failures) {
      lines.push(`    ${f.code.padEnd(22)} ${String(f.count).padStart(6)}`);
      for (const e of f.examples) lines.push(`      ${e.itemKey ?? '-'}: ${e.reason}${e.image && !e.reason.includes(e.image) ? ` (${e.image})` : ''}`);
    }
  }
  if (report.nearDuplicateGroups.groups.length) {
    lines.push('  near-duplicate groups (kept product ← items resembling it), largest first:');
    for (const g of report.nearDuplicateGroups.groups) lines.push(`    ${g.externalId ?? g.imageId} ← ${g.members.join(', ')}`);
  }
  return lines.join('\n');
}
