/** Where a database's schema stands (what `sekisho db status` prints), the same for every backend. */
export interface SchemaStatus {
  /** The highest applied migration (0 for an empty database). */
  readonly current: number;
  /** The highest migration this Sekisho knows. */
  readonly latest: number;
  /** Known migrations not applied yet, in order. */
  readonly pending: readonly { readonly version: number; readonly name: string }[];
}
