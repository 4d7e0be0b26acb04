/**
 * The console's one table: a keyboard-scrollable region (its `label` is the region's accessible
 * name) holding a table with a caption, one header row of column headers (`scope="col"`) and the
 * rows the page renders. Every list in the console (jobs, datums, models, repos, commits,
 * predictions, recommendations, ratings) is one of these, so they look and read alike.
 */
import type { ComponentChildren } from 'preact';

/** A column header: its text, and optional classes (`num` right-aligns, `hide-narrow` hides it on phones). */
export type Column = string | { label: string; class: string };

/** Props of {@link Table}. */
export interface TableProps {
  /** The scroll region's accessible name, e.g. "Jobs table". */
  label: string;
  /** The column headers, in order. */
  columns: readonly Column[];
  /** The caption (what the table lists). */
  caption: ComponentChildren;
  /** The `<tr>` rows. */
  children: ComponentChildren;
  /** Attributes of the `<table>` element itself: its id and `data-*` attributes. */
  tableProps?: { id?: string } & { [data: `data-${string}`]: string | number };
}

/** A captioned table of rows in a focusable scroll region (see the module comment). */
export function Table({ label, columns, caption, children, tableProps }: TableProps) {
  return (
    <div class="scroll" tabindex={0} role="region" aria-label={label}>
      <table {...tableProps}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) =>
              typeof c === 'string' ? (
                <th scope="col" key={c}>
                  {c}
                </th>
              ) : (
                <th scope="col" class={c.class} key={c.label}>
                  {c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
