/** Number formatting shared by the markdown and SVG writers, so both show the same figures. */
export const fmtInt = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
export const fmtMs = (n: number): string =>
  Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—';
export const fmtMB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
export const fmtRatio = (n: number): string =>
  Number.isFinite(n) ? (n >= 10 ? `${n.toFixed(1)}×` : `${n.toFixed(2)}×`) : '—';
export const fmtPct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : '—');
