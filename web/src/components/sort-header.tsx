import { IconArrowDown, IconArrowsSort, IconArrowUp } from '@tabler/icons-react';

export interface Sort<K extends string> {
  by: K;
  descending: boolean;
}

/** A column header that sorts by its column; a second press reverses the order. */
export function SortHeader<K extends string>({
  label,
  column,
  sort,
  onSort,
}: {
  label: string;
  column: K;
  sort: Sort<K>;
  onSort: (sort: Sort<K>) => void;
}) {
  const active = sort.by === column;
  const Icon = !active ? IconArrowsSort : sort.descending ? IconArrowDown : IconArrowUp;
  return (
    <button
      type="button"
      className="tg-sort-header"
      onClick={() => onSort({ by: column, descending: active ? !sort.descending : column !== 'name' })}
      aria-label={`Sort by ${label.toLowerCase()}`}
    >
      {label}
      <Icon size={14} opacity={active ? 1 : 0.4} aria-hidden />
    </button>
  );
}

export function ariaSort<K extends string>(sort: Sort<K>, column: K): 'ascending' | 'descending' | 'none' {
  if (sort.by !== column) return 'none';
  return sort.descending ? 'descending' : 'ascending';
}
