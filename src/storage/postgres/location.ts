/**
 * Where a PostgreSQL database is, for messages (never the password). Apart from the backend so that
 * naming the location does not load the `pg` driver (storage/open.ts loads it only when used).
 */
export function describeLocation(url: string, schema?: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    return `${u.hostname}:${u.port || '5432'}/${db}${schema ? ` schema ${schema}` : ''}`;
  } catch {
    return '(unparseable URL)';
  }
}
