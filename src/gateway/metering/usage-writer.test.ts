import { getTableColumns } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { usageRecords } from '../../store/schema.ts';
import { RECORD_COLUMNS } from './usage-writer.ts';

describe('usage writer', () => {
  it('writes every column of usage_records but the generated id', () => {
    const columns = Object.values(getTableColumns(usageRecords))
      .map((column) => column.name)
      .filter((name) => name !== 'id')
      .sort();
    expect(RECORD_COLUMNS.map(([name]) => name).sort()).toEqual(columns);
  });
});
