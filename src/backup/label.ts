/**
 * The backup label (`--label`), checked before anything connects. PostgreSQL refuses a label
 * longer than 1024 bytes (MAXPGPATH) only once the backup starts ("backup label too long"), and
 * writes it as one "LABEL: ..." line of backup_label, so a line break would make that file
 * unreadable by the tools that parse it.
 */
import { PgkeepError } from '../errors.js';

export const MAX_LABEL_BYTES = 1024;

export function checkBackupLabel(label: string): void {
  const bytes = Buffer.byteLength(label, 'utf8');
  if (bytes > MAX_LABEL_BYTES) {
    throw new PgkeepError('USAGE', `--label is ${bytes} bytes long; PostgreSQL takes at most ${MAX_LABEL_BYTES}`, {
      hint: 'give a shorter label (it is stored in backup_label and shown by "pgkeep list")',
      details: { bytes, max: MAX_LABEL_BYTES },
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) {
    throw new PgkeepError('USAGE', '--label contains a line break or another control character', {
      hint: 'a label is one line of text (it becomes the LABEL line of backup_label)',
    });
  }
}
