/**
 * The one stylesheet of the authorization server's pages, served by `oauth/page-http.ts` at STYLESHEET_PATH
 * (CSP `style-src 'self'`: no inline styles). System fonts, including Japanese ones; light and dark.
 */
/** Where the pages link the stylesheet from (CSP style-src 'self'). */
export const STYLESHEET_PATH = '/static/sekisho.css';

export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f3f4f6; --card: #ffffff; --text: #111827; --muted: #4b5563; --line: #e5e7eb;
  --accent: #1d4ed8; --accent-text: #ffffff; --accent-hover: #1e40af;
  --danger: #b91c1c; --warn-bg: #fef3c7; --warn-text: #78350f; --error-bg: #fee2e2; --ok-bg: #dcfce7;
  --code-bg: #f3f4f6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1120; --card: #111827; --text: #f3f4f6; --muted: #9ca3af; --line: #1f2937;
    --accent: #3b82f6; --accent-text: #ffffff; --accent-hover: #2563eb;
    --danger: #f87171; --warn-bg: #422006; --warn-text: #fde68a; --error-bg: #450a0a; --ok-bg: #052e16;
    --code-bg: #1f2937;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; min-height: 100vh; display: flex; align-items: flex-start; justify-content: center;
  padding: 2.5rem 1rem; background: var(--bg); color: var(--text);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Hiragino Sans", "Hiragino Kaku Gothic ProN",
    "Noto Sans JP", "Yu Gothic UI", Meiryo, sans-serif;
}
.card {
  width: 100%; max-width: 30rem; background: var(--card); border: 1px solid var(--line);
  border-radius: 14px; padding: 2rem 1.75rem; box-shadow: 0 10px 30px rgba(0, 0, 0, .06);
}
.card.wide { max-width: 44rem; }
/* Japanese: break between phrases (bunsetsu), never leave a lone character or a closing mark alone. */
:lang(ja) { line-break: strict; word-break: auto-phrase; }
h1, h2 { text-wrap: balance; }
p, li, .notice, dd { text-wrap: pretty; }
.top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; margin: 0 0 1.25rem; }
.brand { display: flex; align-items: center; gap: .5rem; margin: 0; font-weight: 600; color: var(--muted); }
.lang-switch a {
  display: inline-block; padding: .3rem .7rem; border: 1px solid var(--line); border-radius: 999px;
  color: var(--muted); font-size: .85rem; text-decoration: none;
}
.lang-switch a:hover { color: var(--text); border-color: #9ca3af; }
.mark {
  display: inline-grid; place-items: center; width: 1.9rem; height: 1.9rem; border-radius: 8px;
  background: var(--accent); color: var(--accent-text); font-weight: 700;
}
h1 { font-size: 1.45rem; line-height: 1.3; margin: 0 0 .5rem; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
p { margin: .5rem 0; }
.lead { color: var(--muted); margin-bottom: 1.25rem; }
.client { font-weight: 700; overflow-wrap: anywhere; }
.muted { color: var(--muted); font-size: .9rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .35rem; }
input[type=text], input[type=password] {
  width: 100%; padding: .7rem .8rem; font: inherit; color: var(--text); background: var(--card);
  border: 1px solid #9ca3af; border-radius: 8px;
}
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.check { display: flex; gap: .6rem; align-items: flex-start; font-weight: 400; margin: 1.25rem 0 0; }
.check input { margin-top: .3rem; width: 1.05rem; height: 1.05rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; flex-wrap: wrap; }
.actions form { display: contents; }
button {
  flex: 1 1 8rem; min-height: 2.9rem; padding: .65rem 1.1rem; font: inherit; font-weight: 600;
  border-radius: 8px; border: 1px solid transparent; cursor: pointer;
}
button.primary { background: var(--accent); color: var(--accent-text); }
button.primary:hover { background: var(--accent-hover); }
button.secondary { background: transparent; color: var(--text); border-color: #9ca3af; }
button.link {
  flex: 0 0 auto; min-height: 0; padding: 0; border: 0; background: none; color: var(--accent);
  font-weight: 600; text-decoration: underline; text-underline-offset: .2em;
}
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); flex: 0 0 auto; min-height: 2.4rem; white-space: nowrap; }
.scopes.compact { font-size: .9rem; }
.scopes.compact li { padding: .45rem .75rem; }
.scopes.compact .scope-name { display: inline; margin: 0 0 0 .4rem; }
.notice { border-radius: 8px; padding: .75rem .9rem; margin: 1rem 0; font-size: .95rem; }
.notice.error { background: var(--error-bg); }
.notice.warn { background: var(--warn-bg); color: var(--warn-text); }
.notice.ok { background: var(--ok-bg); }
.scopes { list-style: none; padding: 0; margin: .5rem 0 0; border: 1px solid var(--line); border-radius: 10px; }
.scopes li { padding: .7rem .9rem; border-top: 1px solid var(--line); }
.scopes li:first-child { border-top: 0; }
.scopes.withheld li { color: var(--muted); }
code { font: .85em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code-bg); padding: .1em .35em; border-radius: 4px; overflow-wrap: anywhere; }
input.user-code { font: 1.4rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; letter-spacing: .15em; text-align: center; text-transform: uppercase; }
.user-code-shown { text-align: center; font-size: 1.6rem; letter-spacing: .15em; margin: 1rem 0; }
.scope-name { display: block; width: fit-content; margin-top: .25rem; }
.facts {
  list-style: none; padding: 0; margin: 1rem 0; font-size: .95rem;
  display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; align-items: baseline;
}
.facts li { display: contents; }
.facts .label { color: var(--muted); }
.facts code { justify-self: start; }
.facts .not-you { margin: .15rem 0 0; }
.facts .not-you button { font-size: .9rem; font-weight: 500; }
.consent-head { display: flex; align-items: center; gap: .9rem; }
.logo { width: 56px; height: 56px; object-fit: contain; border-radius: 12px; border: 1px solid var(--line); flex: 0 0 auto; }
.support { color: var(--muted); font-size: .8rem; margin-top: 1.25rem; }
details.support summary { cursor: pointer; }
details.support p { margin: .4rem 0 0; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .9rem; margin: .75rem 0 0; font-size: .9rem; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
/* A date and its zone read as one unit; only the narrowest phones may break it. */
@media (min-width: 340px) { dl.meta time { white-space: nowrap; } }
table.demo { width: 100%; border-collapse: collapse; font-size: .9rem; margin-top: .5rem; }
table.demo th, table.demo td { text-align: left; padding: .4rem .5rem; border-top: 1px solid var(--line); }
.upstreams { display: flex; flex-direction: column; gap: .6rem; margin: 1rem 0 0; }
.upstreams form { display: flex; }
.divider { color: var(--muted); font-size: .95rem; margin: 1.5rem 0 .25rem; padding-top: 1rem; border-top: 1px solid var(--line); }
.demo-box { margin-top: 1.75rem; padding-top: 1rem; border-top: 1px dashed var(--line); }
.apps { list-style: none; padding: 0; margin: 1rem 0 0; }
.apps > li { border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin-top: .75rem; }
.app-head { display: flex; gap: .75rem; align-items: flex-start; justify-content: space-between; flex-wrap: wrap; }
.app-head h2 { margin: 0; overflow-wrap: anywhere; }
.topbar { display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; }
.topbar { margin-bottom: 1rem; }
.topbar p { margin: 0; }
.topbar form { margin: 0; }
.topbar button { flex: 0 0 auto; min-height: 2.3rem; }
.card.admin { max-width: 78rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.admin-nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; margin: 0 0 1rem; border-bottom: 1px solid var(--line); }
.admin-nav a { display: inline-block; padding: .4rem 0; color: var(--text); text-decoration: none; border-bottom: 3px solid transparent; }
.admin-nav a[aria-current="page"] { border-bottom-color: var(--accent); font-weight: 600; }
table.admin { width: 100%; border-collapse: collapse; font-size: .88rem; margin: .5rem 0 1rem; }
table.admin th, table.admin td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-top: 1px solid var(--line); }
table.admin th { color: var(--muted); font-weight: 600; }
table.admin code.id, table.admin code.details, table.admin .ua { overflow-wrap: anywhere; word-break: break-all; font-size: .8rem; }
table.admin td.row-actions { white-space: nowrap; }
table.admin td.row-actions form.inline { display: flex; }
table.admin form.inline { display: inline-flex; gap: .35rem; align-items: center; margin: 0 0 .35rem; flex-wrap: wrap; }
table.admin input[type=password] { width: 11rem; }
table.admin button, .admin-filter button { flex: 0 0 auto; min-height: 2.1rem; padding: .3rem .7rem; font-size: .85rem; }
table.audit td:nth-child(2) code { white-space: nowrap; }
table.audit td:nth-child(4) { overflow-wrap: anywhere; max-width: 14rem; }
.bad { color: var(--danger); }
.admin-form, .admin-filter { display: grid; grid-template-columns: max-content minmax(0, 22rem); gap: .5rem .75rem; align-items: center; margin: .5rem 0 1.25rem; }
.admin-form .support, .admin-form button, .admin-filter .support { grid-column: 1 / -1; }
.admin-form button { justify-self: start; }
.admin-form label, .admin-filter label { margin: 0; }
select { font: inherit; padding: .35rem .4rem; border: 1px solid #9ca3af; border-radius: 6px; background: var(--card); color: var(--text); }
@media (max-width: 480px) {
  body { padding: 0; background: var(--card); }
  .card { border: 0; border-radius: 0; box-shadow: none; padding: 1.5rem 1.1rem; min-height: 100vh; }
  .admin-form, .admin-filter { grid-template-columns: 1fr; }
  table.admin { display: block; overflow-x: auto; }
  h1 { font-size: 1.3rem; }
}
`;
